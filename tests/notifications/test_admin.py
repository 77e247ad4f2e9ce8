from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse

from notifications.models import Campaign, OutboxMessage, Status
from notifications.services import notify, preferences_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_outboxmessage_changelist")


@pytest.fixture
def staff_client(client, charlie):
    client.force_login(charlie)
    return client


def test_customers_cannot_open_the_outbox(alice_client):
    response = alice_client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_outbox_filters_by_status_channel_and_kind(staff_client, alice, bob):
    [welcome] = notify(user=alice, kind="welcome", context={})
    [other] = notify(user=bob, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=other.pk).update(status=Status.FAILED, kind="invoice-due")

    by_status = staff_client.get(CHANGELIST, {"status__exact": "failed"}).context["cl"]
    by_kind = staff_client.get(CHANGELIST, {"kind": "welcome"}).context["cl"]
    by_channel = staff_client.get(CHANGELIST, {"channel__exact": "sms"}).context["cl"]

    assert [row.pk for row in by_status.result_list] == [other.pk]
    assert [row.pk for row in by_kind.result_list] == [welcome.pk]
    assert list(by_channel.result_list) == []


def test_the_outbox_list_costs_the_same_queries_for_more_rows(
    staff_client, django_assert_num_queries, django_assert_max_num_queries
):
    UserFactory.create_batch(2)
    for user in UserFactory.create_batch(2):
        notify(user=user, kind="welcome", context={})
    staff_client.get(CHANGELIST)
    with django_assert_max_num_queries(15) as few:
        staff_client.get(CHANGELIST)
    for user in UserFactory.create_batch(10):
        notify(user=user, kind="welcome", context={})
    with django_assert_num_queries(len(few.captured_queries)):
        response = staff_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 12


def test_staff_see_the_rendered_message(staff_client, alice):
    alice.full_name = "Alice <script>alert(1)</script>"
    alice.save()
    [row] = notify(user=alice, kind="welcome", context={})

    response = staff_client.get(reverse("admin:notifications_outboxmessage_change", args=[row.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello Alice," in html
    assert '<iframe sandbox="" srcdoc="&lt;!DOCTYPE html&gt;' in html
    assert "<script>alert(1)</script>" not in html


def test_resend_queues_failed_rows_again_and_leaves_sent_ones(
    staff_client, alice, bob, django_capture_on_commit_callbacks
):
    [failed] = notify(user=alice, kind="welcome", context={})
    [sent] = notify(user=bob, kind="welcome", context={})
    OutboxMessage.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=8, last_error="SMTP 550 No such user"
    )
    OutboxMessage.objects.filter(pk=sent.pk).update(status=Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            CHANGELIST,
            {"action": "resend_failed", ACTION_CHECKBOX_NAME: [failed.pk, sent.pk]},
            follow=True,
        )

    text = response.content.decode()
    assert "1 message(s) queued again." in text
    assert "1 message(s) were not failed and were left alone." in text
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.SENT, 1)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


def test_a_campaign_is_queued_from_the_admin_for_consenting_customers_only(
    staff_client, alice, bob, charlie, django_capture_on_commit_callbacks
):
    preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    response = staff_client.post(
        reverse("admin:notifications_campaign_add"),
        {"name": "Autumn", "channel": "email", "subject": "Autumn offer", "body": "Cheap VPS."},
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.created_by == charlie

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:notifications_campaign_changelist"),
            {"action": "queue_campaign", ACTION_CHECKBOX_NAME: [campaign.pk]},
            follow=True,
        )

    assert "“Autumn” queued for 1 customer(s)." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "List-Unsubscribe" in mail.outbox[0].extra_headers

    response = staff_client.post(
        reverse("admin:notifications_campaign_changelist"),
        {"action": "queue_campaign", ACTION_CHECKBOX_NAME: [campaign.pk]},
        follow=True,
    )
    assert "has already been queued" in response.content.decode()
    assert len(mail.outbox) == 1


def test_consent_records_are_read_only_in_the_admin(staff_client, alice):
    [record] = preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    url = reverse("admin:notifications_consentrecord_change", args=[record.pk])

    response = staff_client.post(url, {"granted": ""})

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.granted is True


def test_an_email_campaign_without_a_subject_is_a_form_error(staff_client):
    response = staff_client.post(
        reverse("admin:notifications_campaign_add"),
        {"name": "Nameless", "channel": "email", "subject": " ", "body": "Hi."},
    )

    assert response.status_code == 200
    assert "An email campaign needs a subject." in response.content.decode()
    assert not Campaign.objects.exists()


def test_it_refuses_to_queue_a_campaign_for_staff_who_may_only_view(
    client, alice, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    campaign = Campaign.objects.create(
        name="Autumn", channel="email", subject="Autumn offer", body="Cheap VPS."
    )
    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(viewer)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:notifications_campaign_changelist"),
            {"action": "queue_campaign", ACTION_CHECKBOX_NAME: [campaign.pk]},
            follow=True,
        )

    campaign.refresh_from_db()
    assert campaign.queued_at is None
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_consent_records_cannot_be_deleted_in_the_admin(staff_client, alice):
    [record] = preferences_update(
        user=alice, choices={"marketing_email": True}, channel="preferences_page", ip_address=None
    )
    url = reverse("admin:notifications_consentrecord_delete", args=[record.pk])

    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()
