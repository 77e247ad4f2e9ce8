"""Staff see every GDPR request, its state and deadline, and cannot alter one."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from privacy.models import DataRequest
from tests.factories import UserFactory


def _request(user, kind, status):
    now = timezone.now()
    return DataRequest.objects.create(
        user=user, kind=kind, status=status, deadline=now + datetime.timedelta(days=30)
    )


@pytest.mark.django_db
def test_staff_see_every_request_with_its_state_and_deadline(client, charlie, alice, bob):
    _request(alice, DataRequest.Kind.EXPORT, DataRequest.Status.READY)
    _request(bob, DataRequest.Kind.ERASURE, DataRequest.Status.SCHEDULED)
    client.force_login(charlie)

    page = client.get(reverse("admin:privacy_datarequest_changelist")).content.decode()

    assert "alice@example.com" in page and "bob@example.com" in page
    assert "Ready to download" in page and "Scheduled" in page
    assert "Deadline" in page


@pytest.mark.django_db
def test_the_request_list_costs_the_same_queries_for_many_rows(client, charlie):
    client.force_login(charlie)
    url = reverse("admin:privacy_datarequest_changelist")
    _request(UserFactory(), DataRequest.Kind.EXPORT, DataRequest.Status.READY)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        _request(UserFactory(), DataRequest.Kind.EXPORT, DataRequest.Status.READY)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


@pytest.mark.django_db
def test_staff_cannot_change_or_delete_a_request(client, charlie, alice):
    data_request = _request(alice, DataRequest.Kind.EXPORT, DataRequest.Status.READY)
    client.force_login(charlie)

    delete = client.post(reverse("admin:privacy_datarequest_delete", args=[data_request.pk]))

    assert delete.status_code == 403
    assert DataRequest.objects.filter(pk=data_request.pk).exists()


@pytest.mark.django_db
def test_a_customer_cannot_open_the_request_list(alice_client):
    response = alice_client.get(reverse("admin:privacy_datarequest_changelist"))

    assert response.status_code == 302
