from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from .crypto import make_cipher


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUPS


class MFAAdapter(DefaultMFAAdapter):
    """Keeps TOTP secrets encrypted at rest (allauth stores them in plain text by default)."""

    def encrypt(self, text: str) -> str:
        return make_cipher(settings.MFA_ENCRYPTION_KEYS).encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return make_cipher(settings.MFA_ENCRYPTION_KEYS).decrypt(encrypted_text.encode()).decode()
