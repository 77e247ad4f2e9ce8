"""A Redis cache that fails soft: while Redis is unreachable every read is a miss and
every write is dropped (with one warning a minute), so pages keep working on the
database alone instead of answering 500.

What that means for the things kept in the cache:
- sessions (accounts.session_store, Django's `cached_db` with the customer kept in the
  entry) are read from and written to PostgreSQL meanwhile, and the customer comes from
  the database on every request;
- the other read-through caches fall back to their queries;
- allauth's rate limits and our own per-address ceilings do not count while Redis is
  down (they fail open; `add` answers True so allauth's cache lock does not spin).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import BaseCache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 60.0


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client makes a new redis.Redis for every command, and redis-py fills a
    dict of some 170 response callbacks each time: a third of a millisecond per cache
    call. One redis.Redis per connection pool does the same work (it is thread-safe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # _get_connection_pool and _client are Django's, absent from django-stubs.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class FailSoftRedisCache(RedisCache):
    _last_warning = 0.0

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self._scripts: dict[str, Script] = {}

    def _unreachable(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        if now - FailSoftRedisCache._last_warning >= WARN_EVERY_SECONDS:
            FailSoftRedisCache._last_warning = now
            logger.warning("Redis cache unreachable (%s: %s): failing soft.", operation, error)

    # Raw access, for callers that keep a format of their own (accounts.session_store):
    # keys are made with make_key() by the caller, values are bytes, and Django's
    # per-call key validation and int-or-pickle decoding are skipped (a third of a
    # cache read's instructions on a signed-in request).

    def get_raw(self, made_key: str) -> bytes | None:
        """The bytes under a made key, or None (missing, or Redis unreachable)."""
        try:
            value = self._cache.get_client(made_key).get(made_key)
        except UNREACHABLE as error:
            self._unreachable("get", error)
            return None
        return value if isinstance(value, bytes) else None

    def set_raw(self, made_key: str, value: bytes, timeout: int) -> None:
        """Writes bytes for `timeout` seconds (0 or less deletes, as Django's set does)."""
        try:
            client = self._cache.get_client(made_key, write=True)
            if timeout > 0:
                client.set(made_key, value, ex=timeout)
            else:
                client.delete(made_key)
        except UNREACHABLE as error:
            self._unreachable("set", error)

    def run_script(self, lua: str, keys: list[str], args: list[Any]) -> Any:
        """Runs a Lua script atomically in Redis (sent once, then called by its SHA1);
        None when Redis is unreachable."""
        try:
            client = self._cache.get_client(write=True)
            script = self._scripts.get(lua)
            if script is None:
                script = self._scripts[lua] = client.register_script(lua)
            return script(keys=keys, args=args, client=client)
        except UNREACHABLE as error:
            self._unreachable("script", error)
            return None

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as error:
            self._unreachable("get", error)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as error:
            self._unreachable("get_many", error)
            return {}

    def has_key(self, key: str, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as error:
            self._unreachable("has_key", error)
            return False

    def add(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unreachable("add", error)
            return True

    def set(
        self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as error:
            self._unreachable("set", error)

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as error:
            self._unreachable("set_many", error)
            return list(data)

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as error:
            self._unreachable("touch", error)
            return False

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as error:
            self._unreachable("incr", error)
            # What Django raises for a missing key: callers already handle it.
            raise ValueError(f"Key {key!r} not found: the cache is unreachable.") from error

    def delete(self, key: str, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as error:
            self._unreachable("delete", error)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as error:
            self._unreachable("delete_many", error)

    def clear(self) -> None:
        try:
            super().clear()
        except UNREACHABLE as error:
            self._unreachable("clear", error)


def redis_cache(cache: BaseCache) -> FailSoftRedisCache | None:
    """The cache as our Redis cache, or None (the embedded default's local memory)."""
    return cache if isinstance(cache, FailSoftRedisCache) else None
