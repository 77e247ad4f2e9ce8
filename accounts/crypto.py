"""Symmetric encryption for secrets we must be able to read back (TOTP seeds).

MultiFernet: the first key encrypts, every key decrypts, so keys rotate by
putting a new one first and re-encrypting at leisure.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet


def make_cipher(keys: Sequence[str]) -> MultiFernet:
    if not keys:
        raise ValueError("At least one Fernet key is required.")
    return MultiFernet([Fernet(key.encode()) for key in keys])
