"""The private storage of identity documents.

Files are reached only through Django's storage API (`storages["verification"]`),
so an S3-compatible bucket (django-storages) replaces the disk by settings alone.
The disk backend has no URL at all: a document is never served by the web server
or under MEDIA_URL, only decrypted by a staff-only view.
"""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, Storage, storages


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder outside MEDIA_ROOT whose files have no public address."""

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Identity documents have no public URL.")


def document_storage() -> Storage:
    return storages["verification"]
