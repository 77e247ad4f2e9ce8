from __future__ import annotations

from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import override_settings
from django.urls import reverse

from accounts.crypto import make_cipher


def test_totp_secrets_are_encrypted_at_rest(alice):
    secret = generate_totp_secret()

    TOTP.activate(alice, secret)

    stored = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP).data["secret"]
    assert stored != secret
    assert secret not in stored
    assert get_adapter().decrypt(stored) == secret


def test_a_rotated_key_still_decrypts_old_secrets(alice, settings):
    old_key, new_key = settings.MFA_ENCRYPTION_KEYS[0], make_cipher_key()
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)
    stored = Authenticator.objects.get(user=alice).data["secret"]

    with override_settings(MFA_ENCRYPTION_KEYS=[new_key, old_key]):
        assert get_adapter().decrypt(stored) == secret
        assert make_cipher([new_key]).decrypt(get_adapter().encrypt("x").encode()) == b"x"


def make_cipher_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def test_the_dashboard_asks_to_turn_on_two_factor_until_it_is_on(alice_client, alice):
    assert "Turn on two-factor authentication" in alice_client.get(reverse("core:dashboard")).text

    TOTP.activate(alice, generate_totp_secret())

    assert "Two-factor authentication is on" in alice_client.get(reverse("core:dashboard")).text
