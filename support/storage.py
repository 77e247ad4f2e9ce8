"""The private attachment storage: files on disk with no URL at all.

Django's FileSystemStorage falls back to MEDIA_URL when it has no base URL; this one
refuses to make URLs, so an attachment can only leave through the download views.
"""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    def url(self, name: str | None) -> str:
        raise ValueError("Support attachments have no public URL; use the download views.")
