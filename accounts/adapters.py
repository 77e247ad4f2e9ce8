from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal import ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from .crypto import make_cipher


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth is untyped
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUPS

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: str) -> str:
        """The failed-login limit per account counts per account *and* address.

        allauth keys it by the email alone, so five wrong guesses from anywhere locked
        the owner out as well (OWASP ASVS 6.3: throttling must not let anyone lock an
        account). Keyed by email and client address, the guesser is slowed and the
        owner, signing in from their own address, is not; the per-address limit still
        caps guessing across many accounts.
        """
        ip = ratelimit.get_ip(request)
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{ip}"


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]  # allauth is untyped
    """Keeps TOTP secrets encrypted at rest (allauth stores them in plain text by default)."""

    def encrypt(self, text: str) -> str:
        return make_cipher(settings.MFA_ENCRYPTION_KEYS).encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return make_cipher(settings.MFA_ENCRYPTION_KEYS).decrypt(encrypted_text.encode()).decode()
