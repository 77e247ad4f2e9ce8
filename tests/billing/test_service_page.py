"""The service page of the client area: what it shows, cancel and change plan."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import ChangeStatus, ServiceStatus
from provisioning.models import Account
from tests.factories import PriceFactory, ProductFactory
from tests.helpers import order_and_pay


@pytest.fixture
def bigger_plan(hosted_plan):
    product = ProductFactory(
        name="Cloud hosting L",
        slug="cloud-l",
        group="cloud",
        server_group=hosted_plan.server_group,
        package="cloud-l",
        sort_order=2,
    )
    PriceFactory(product=product, currency="EUR", cycle="monthly", amount=3000)
    return product


@pytest.fixture
def service(alice, hosted_plan, bigger_plan, django_capture_on_commit_callbacks):
    return order_and_pay(alice, hosted_plan, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(
    "name",
    ["service_detail", "service_credentials", "service_login", "service_cancel", "service_change"],
)
def test_another_customer_gets_404(client, bob, service, name):
    client.force_login(bob)
    method = client.get if name == "service_detail" else client.post
    assert method(reverse(f"billing:{name}", args=[service.pk])).status_code == 404


def test_the_page_shows_product_status_dates_price_and_login(
    client, alice, service, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("billing:service_detail", args=[service.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Cloud hosting" in html and "Active" in html and "€10.00" in html
    assert service.account.username in html
    assert "Sign in to the panel" in html and "Show the password once" in html
    assert "Switch to Cloud hosting L" in html
    assert "S3cret-first-pass" not in html


def test_staff_see_the_page_only_through_admin(client, charlie, service):
    client.force_login(charlie)
    assert client.get(reverse("billing:service_detail", args=[service.pk])).status_code == 404
    admin_page = client.get(reverse("admin:billing_service_change", args=[service.pk]))
    assert admin_page.status_code == 200 and "sync_service" in admin_page.content.decode()


def test_the_first_password_is_shown_once(client, alice, service):
    client.force_login(alice)
    url = reverse("billing:service_credentials", args=[service.pk])
    first = client.post(url)
    assert "S3cret-first-pass" in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    assert Account.objects.get(pk=service.account_id).password_once_encrypted == ""
    second = client.post(url, follow=True)
    assert "S3cret-first-pass" not in second.content.decode()
    assert "shown already" in second.content.decode()


def test_sign_in_redirects_to_the_panels_one_time_link(client, alice, service):
    client.force_login(alice)
    response = client.post(reverse("billing:service_login", args=[service.pk]))
    assert response.status_code == 302
    assert (
        response["Location"] == f"https://panel.example.com/sso/service-{service.pk}?token=one-time"
    )


def test_sign_in_says_so_when_the_panel_is_down(client, alice, service, fake_panel):
    fake_panel.fail_next.append(503)
    client.force_login(alice)
    response = client.post(reverse("billing:service_login", args=[service.pk]), follow=True)
    assert "not available right now" in response.content.decode()


def test_cancel_needs_the_confirmation_box(client, alice, service):
    client.force_login(alice)
    response = client.post(
        reverse("billing:service_cancel", args=[service.pk]), {"when": "end_of_period"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    service.refresh_from_db()
    assert service.cancel_at is None


def test_cancel_at_the_end_of_the_period_is_shown_and_stops_renewals(client, alice, service):
    client.force_login(alice)
    response = client.post(
        reverse("billing:service_cancel", args=[service.pk]),
        {"when": "end_of_period", "reason": "too dear", "confirm": "on"},
        follow=True,
    )
    service.refresh_from_db()
    assert service.cancel_at == service.next_due_date and service.status == ServiceStatus.ACTIVE
    assert f"ends on {service.next_due_date:%-d %b %Y}" in response.content.decode()
    from billing.services.renewals import renewals_generate

    assert renewals_generate(today=service.next_due_date, days_ahead=0) == []


def test_an_upgrade_issues_a_prorated_invoice_and_applies_on_the_panel_when_paid(
    client, alice, service, bigger_plan, fake_panel, django_capture_on_commit_callbacks
):
    from billing.services.manual_payments import invoice_mark_paid_outside_stripe

    client.force_login(alice)
    response = client.post(
        reverse("billing:service_change", args=[service.pk]), {"product": bigger_plan.pk}
    )
    change = service.changes.get()
    assert change.status == ChangeStatus.AWAITING_PAYMENT
    assert response["Location"] == reverse("billing:invoice_detail", args=[change.invoice_id])
    # Ordered today and paid for a full month: the whole difference is due.
    assert change.charge == 2000 and change.invoice.subtotal == 2000
    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid_outside_stripe(invoice=change.invoice)
    service.refresh_from_db()
    assert (service.product, service.amount) == (bigger_plan, 3000)
    assert fake_panel.accounts[f"service-{service.pk}"]["package"] == "cloud-l"


def test_a_downgrade_applies_at_once_with_the_difference_as_credit(
    client, alice, hosted_plan, bigger_plan, fake_panel, django_capture_on_commit_callbacks
):
    service = order_and_pay(alice, bigger_plan, django_capture_on_commit_callbacks)
    paid_until = service.next_due_date
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("billing:service_change", args=[service.pk]), {"product": hosted_plan.pk}
        )
    service.refresh_from_db()
    change = service.changes.get()
    assert change.status == ChangeStatus.APPLIED and change.invoice is None
    # Ordered today, the whole period is left: 30.00 → 10.00 is 20.00 of credit, not days.
    assert change.credit == 2000
    assert alice.credit_balances.get(currency="EUR").amount == 2000
    assert service.next_due_date == paid_until
    assert fake_panel.accounts[f"service-{service.pk}"]["package"] == "cloud-s"


def test_a_plan_outside_the_group_is_a_form_error(client, alice, service):
    other = ProductFactory(name="Domain", slug="domain-x")
    PriceFactory(product=other, currency="EUR", cycle="monthly", amount=100)
    client.force_login(alice)
    response = client.post(
        reverse("billing:service_change", args=[service.pk]), {"product": other.pk}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not service.changes.exists()
