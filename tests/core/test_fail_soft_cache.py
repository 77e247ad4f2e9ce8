"""With Redis unreachable the cache fails soft and signed-in pages keep working."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import caches
from django.urls import reverse

from core.cache import FailSoftRedisCache


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
    yield caches["default"]


def test_reads_miss_and_writes_are_dropped_while_redis_is_unreachable(redis_down):
    assert isinstance(redis_down, FailSoftRedisCache)
    redis_down.set("key", "value")
    assert redis_down.get("key", "default") == "default"
    assert redis_down.get_many(["key"]) == {}
    assert redis_down.add("lock", True) is True  # allauth's cache lock must not spin
    assert redis_down.delete("key") is False
    assert redis_down.get_or_set("other", 3) == 3
    with pytest.raises(ValueError):
        redis_down.incr("counter")


def test_signed_in_pages_work_on_the_database_alone_while_redis_is_unreachable(
    redis_down, client, alice
):
    client.force_login(alice)

    assert client.get(reverse("core:dashboard")).status_code == 200
    assert client.get(reverse("billing:invoices")).status_code == 200
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_the_cache_works_as_usual_with_redis_up():
    cache = caches["default"]
    assert isinstance(cache, FailSoftRedisCache)
    cache.set("key", "value")
    assert cache.get("key") == "value"
    assert cache.add("counter", 1) is True
    assert cache.incr("counter") == 2
