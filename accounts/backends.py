"""Authentication backends that read the signed-in customer from the cache.

Django loads request.user from the database on every request; here it comes from
the shared cache (one Redis round trip, the same one that fetches the session) and
the database is asked only on a miss. Every save or delete of a customer drops the
cached copy, at once and again when the transaction commits (so a concurrent
request cannot put back a copy read before the commit); the entry also expires on
its own after USER_CACHE_SECONDS, which bounds staleness after a raw `.update()`
that sends no signal. Django still checks the session's password hash against the
cached user, so a password change signs other sessions out as before.

The two classes are Django's and allauth's backends with the cache in front: the
session keeps the path of the backend that signed the customer in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction

from .models import User

USER_CACHE_SECONDS = 300
# Bump when User's fields change so processes of two releases never share a pickle.
USER_CACHE_KEY = "accounts:user:v1:{pk}"


def cached_user_forget(*, user_id: int) -> None:
    """Drops the cached copy of a customer now and once the transaction commits."""
    key = USER_CACHE_KEY.format(pk=user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def cached_user(
    backend: DjangoModelBackend, user_id: int, load: Callable[[int], AbstractBaseUser | None]
) -> User | None:
    """The customer from the cache, or from `load` (the backend's own query) on a miss."""
    key = USER_CACHE_KEY.format(pk=user_id)
    user = cache.get(key)
    if isinstance(user, User):
        return user if backend.user_can_authenticate(user) else None
    loaded = load(user_id)
    if not isinstance(loaded, User):
        return None
    cache.set(key, loaded, USER_CACHE_SECONDS)
    return loaded


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend with the cached user."""

    def get_user(self, user_id: Any) -> User | None:
        return cached_user(self, user_id, super().get_user)


class AuthenticationBackend(AllauthBackend):  # type: ignore[misc]  # allauth ships no types
    """allauth's email-login backend with the cached user."""

    def get_user(self, user_id: Any) -> User | None:
        return cached_user(self, user_id, super().get_user)


def forget_changed_user(sender: type[User], instance: User, **kwargs: object) -> None:
    """post_save/post_delete receiver: the next request reads the customer afresh."""
    cached_user_forget(user_id=instance.pk)
