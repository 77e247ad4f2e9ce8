from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from verification.services import documents_rotate_keys


class Command(BaseCommand):
    help = (
        "Re-encrypts every identity document under the first DOCUMENT_ENCRYPTION_KEYS key. "
        "Put the new key first, keep the old ones after it, run this, then drop the old keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = documents_rotate_keys()
        self.stdout.write(f"{count} document(s) re-encrypted under the first key.")
