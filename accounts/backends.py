"""Authentication backends that take the signed-in customer from the session's entry.

Django loads request.user from the database on every request. Here the customer's row
travels inside the session's cache entry (accounts.session_store), so a signed-in
request costs one Redis read for both; accounts.middleware.AuthenticationMiddleware
hands that copy to Django's own `auth.get_user` (through `providing`), which still
checks the session's password hash against it, so a password change signs other
sessions out as before. The database is asked only when the entry holds no copy.

A change to the customer must reach the next request of every session:
`cached_user_forget` (called on every save and delete of a User, and by the services
that change the row with a raw `.update()`) bumps the customer's version and deletes
the cache entries of all their sessions, in one Lua script, at once and again when
the transaction commits. A copy is written into an entry only while the version is
still the one read before the copy was loaded from the database, checked in Redis in
the same script as the write, so a request that loaded a copy before a change cannot
put it back afterwards. A copy is also used for USER_CACHE_SECONDS at most, which
bounds staleness if an invalidation is lost (Redis unreachable at that moment).
The Lua scripts touch keys they find in a set: fine on one Redis server (and its
replicas), not on Redis Cluster.
"""

from __future__ import annotations

import functools
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from auditlog.context import disable_auditlog
from django.conf import settings
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import update_last_login as django_update_last_login
from django.core.cache import caches
from django.db import transaction
from django.db.models.base import ModelState

from core.cache import FailSoftRedisCache, redis_cache

from .models import User

USER_CACHE_SECONDS = 300
# The customer's version: bumped on every change; lives longer than any request.
VERSION_KEY = "accounts:user-version:{pk}"
VERSION_SECONDS = 24 * 60 * 60
# The cache keys of the session entries that hold a copy of the customer.
SESSIONS_KEY = "accounts:user-sessions:{pk}"


_FORGET = """
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
local entries = redis.call('SMEMBERS', KEYS[2])
for i = 1, #entries, 500 do
  redis.call('DEL', unpack(entries, i, math.min(i + 499, #entries)))
end
redis.call('DEL', KEYS[2])
return #entries
"""


class Snapshot(NamedTuple):
    """What a request needs of the customer: their row as loaded, and the version it
    was loaded at (b"" before the first change)."""

    user_id: int
    version: bytes
    loaded_at: float
    signature: int
    values: tuple[Any, ...]
    db: str

    def fresh(self, user_id: int) -> bool:
        return (
            self.user_id == user_id
            and self.signature == _columns()[1]
            and 0 <= time.time() - self.loaded_at < USER_CACHE_SECONDS
        )

    def user(self) -> User:
        """The customer, as the database gave it (what unpickling a model does)."""
        user = User.__new__(User)
        user.__dict__.update(zip(_columns()[0], self.values, strict=True))
        state = user._state = ModelState()
        state.adding = False
        state.db = self.db
        return user


@functools.cache
def _columns() -> tuple[tuple[str, ...], int]:
    """The row's columns in order, and their signature: a copy made with other columns
    (by another release) is not used."""
    names = tuple(field.attname for field in User._meta.concrete_fields)
    return names, zlib.crc32(",".join(names).encode())


def _cache() -> FailSoftRedisCache | None:
    return redis_cache(caches[settings.SESSION_CACHE_ALIAS])


def snapshot_keys(cache: FailSoftRedisCache, user_id: int) -> tuple[str, str]:
    """The made cache keys of the customer's version and of their sessions' set."""
    return (
        cache.make_key(VERSION_KEY.format(pk=user_id)),
        cache.make_key(SESSIONS_KEY.format(pk=user_id)),
    )


def snapshot_load(user_id: int) -> Snapshot | None:
    """The customer from the database (None if there is none), with the version read
    before the row, so that a copy of it is refused if a change lands in between."""
    cache = _cache()
    version = b""
    if cache is not None:
        version = cache.get_raw(snapshot_keys(cache, user_id)[0]) or b""
    user = User._default_manager.filter(pk=user_id).first()
    if user is None:
        return None
    names, signature = _columns()
    values = tuple(user.__dict__[name] for name in names)
    return Snapshot(user_id, version, time.time(), signature, values, user._state.db or "")


def cached_user_forget(*, user_id: int) -> None:
    """Makes every session read the customer afresh: now, and once the transaction
    commits (so a request that read the row before the commit cannot keep it)."""
    cache = _cache()
    if cache is None:
        return  # the local-memory default keeps no copy of the customer
    keys = list(snapshot_keys(cache, user_id))
    cache.run_script(_FORGET, keys, [VERSION_SECONDS])
    transaction.on_commit(lambda: cache.run_script(_FORGET, keys, [VERSION_SECONDS]))


# The customer the middleware took from the session entry, for Django's get_user to
# receive from the backend it names; set only around that call.
_provided: ContextVar[User | None] = ContextVar("accounts_provided_user", default=None)


@contextmanager
def providing(user: User | None) -> Iterator[None]:
    token = _provided.set(user)
    try:
        yield
    finally:
        _provided.reset(token)


def _get_user(
    backend: DjangoModelBackend, user_id: Any, load: Callable[[Any], AbstractBaseUser | None]
) -> User | None:
    provided = _provided.get()
    if provided is not None and provided.pk == user_id:
        return provided if backend.user_can_authenticate(provided) else None
    loaded = load(user_id)
    return loaded if isinstance(loaded, User) else None


class ModelBackend(DjangoModelBackend):
    """Django's ModelBackend, taking the customer from the session entry."""

    def get_user(self, user_id: Any) -> User | None:
        return _get_user(self, user_id, super().get_user)


class AuthenticationBackend(AllauthBackend):  # type: ignore[misc]  # allauth ships no types
    """allauth's email-login backend, taking the customer from the session entry."""

    def get_user(self, user_id: Any) -> User | None:
        return _get_user(self, user_id, super().get_user)


def forget_changed_user(sender: type[User], instance: User, **kwargs: object) -> None:
    """post_save/post_delete receiver: every session reads the customer afresh."""
    cached_user_forget(user_id=instance.pk)


def update_last_login(sender: type[User], user: User, **kwargs: object) -> None:
    """Django's user_logged_in receiver, without auditlog's read of the row before the
    save: last_login is left out of the customer's audit entries, so that read (one
    query per sign-in) could never lead to an entry. The save's other receivers run."""
    with disable_auditlog():
        django_update_last_login(sender, user, **kwargs)
