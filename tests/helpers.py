"""Helpers the tests share (fixtures live in conftest.py, model factories in factories.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def clear_cache() -> None:
    """Empties this test process's cache, and only its own.

    cache.clear() would FLUSHDB the whole Redis database, including the keys of the
    other pytest-xdist workers (each has its own KEY_PREFIX, see config.settings.test)
    and the broker queues of worker tests running beside it.
    """
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
