"""With the broker, or Redis altogether, down: pages answer and nothing queued is lost.

The dead Redis is a free loopback port with nothing listening (never the shared one).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from privacy.models import LegalDocument, SessionRecord
from privacy.services import document_publish, pending_work_requeue
from tests.factories import TEST_PASSWORD
from tests.helpers import draft, free_port
from tests.servers import use_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down() -> Iterator[None]:
    from config.celery import app

    undo = use_broker(app, f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        undo()


@pytest.fixture
def redis_down(settings, broker_down) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = dead
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
        }
    }


def sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})


def sweep_later() -> int:
    """The beat sweep, run as if its delay had passed (the broker is back: eager tasks)."""
    return pending_work_requeue(now=timezone.now() + datetime.timedelta(minutes=10))


def test_with_the_broker_down_a_password_sign_in_works(
    client, alice, broker_down, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in(client, alice)

    assert response.status_code == 302
    assert response["Location"] == reverse("core:dashboard")
    record = SessionRecord.objects.get(user=alice)
    assert record.network_host_checked_at is None
    assert f"resolve_network_host({record.pk},) waits for its beat sweep" in caplog.text


def test_the_sweep_does_the_network_lookup_the_broker_dropped(
    client, alice, broker_down, request, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(client, alice)
    request.getfixturevalue("_broker_back")

    assert sweep_later() == 1

    record = SessionRecord.objects.get(user=alice)
    assert record.network_host_checked_at is not None
    assert sweep_later() == 0


@pytest.fixture
def _broker_back() -> None:
    """Tasks run in-process again, as once the broker is reachable."""
    from config.celery import app

    app.conf.task_always_eager = True


def test_a_version_published_while_the_broker_is_down_is_announced_once_by_the_sweep(
    alice, bob, broker_down, request, django_capture_on_commit_callbacks
):
    document = draft()
    with django_capture_on_commit_callbacks(execute=True):
        assert document_publish(document=document)
    kind = "privacy-document-published"
    assert not OutboxMessage.objects.filter(kind=kind).exists()
    request.getfixturevalue("_broker_back")

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_later() == 1
        assert sweep_later() == 0

    assert sorted(OutboxMessage.objects.filter(kind=kind).values_list("recipient", flat=True)) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert LegalDocument.objects.get(pk=document.pk).announced_at is not None


def test_with_redis_down_sign_in_privacy_and_terms_answer_and_healthz_says_503(
    client, alice, redis_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_in(client, alice)

    assert response["Location"] == reverse("core:dashboard")
    assert client.get(reverse("core:dashboard")).status_code == 200
    client.logout()
    assert client.get("/privacy/").status_code == 200
    assert client.get("/terms/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503
    assert json.loads(health.content)["redis"] == "unavailable"
