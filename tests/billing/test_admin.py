from __future__ import annotations

import pytest
from django.urls import reverse

from billing.audit import invoice_audit_trail
from billing.models import InvoiceStatus, ServiceStatus, StripeEvent
from tests.factories import PaymentMethodFactory, StripeEventFactory

MODELS = [
    "product",
    "taxrate",
    "billingaccount",
    "order",
    "service",
    "invoice",
    "creditnote",
    "payment",
    "paymentmethod",
    "stripeevent",
]


def test_staff_see_every_billing_list(client, charlie, alice_invoice, subtests):
    PaymentMethodFactory(user=alice_invoice.user)
    StripeEventFactory(event_id="evt_1", type="customer.updated", payload={"id": "evt_1"})
    client.force_login(charlie)
    for model in MODELS:
        with subtests.test(model=model):
            assert client.get(reverse(f"admin:billing_{model}_changelist")).status_code == 200


def test_customers_cannot_open_the_billing_admin(alice_client, alice_invoice):
    response = alice_client.get(reverse("admin:billing_invoice_changelist"))
    assert response.status_code == 302


def _action(client, action, invoice):
    return client.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": action, "_selected_action": [invoice.pk]},
        follow=True,
    )


def test_staff_mark_an_invoice_paid_once(client, charlie, alice_invoice):
    client.force_login(charlie)
    assert (
        "1 invoice(s) marked paid." in _action(client, "mark_paid", alice_invoice).content.decode()
    )
    assert (
        "0 invoice(s) marked paid." in _action(client, "mark_paid", alice_invoice).content.decode()
    )
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert alice_invoice.order.services.get().status == ServiceStatus.ACTIVE


@pytest.mark.parametrize(
    ("action", "note", "after"),
    [
        ("mark_paid", "Marked paid by staff", InvoiceStatus.PAID),
        ("cancel", "Cancelled by staff", InvoiceStatus.CANCELLED),
    ],
)
def test_a_bulk_action_leaves_an_audit_entry_naming_the_staff_member(
    client, charlie, alice_invoice, action, note, after
):
    before = alice_invoice.status
    client.force_login(charlie)
    _action(client, action, alice_invoice)

    [row] = [row for row in invoice_audit_trail(alice_invoice) if row.what.endswith(note)]
    assert row.who == f"{charlie.get_full_name()} <{charlie.email}>"
    assert row.changes == f"status: {before} → {after}"


def test_staff_cancel_an_unpaid_invoice(client, charlie, alice_invoice):
    client.force_login(charlie)
    _action(client, "cancel", alice_invoice)
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.CANCELLED


def test_a_refund_of_an_unpaid_invoice_is_refused_with_a_reason(client, charlie, alice_invoice):
    client.force_login(charlie)
    body = _action(client, "refund_in_full", alice_invoice).content.decode()
    assert "Only an invoice paid by card can be refunded." in body
    assert not alice_invoice.credit_notes.exists()


def test_an_issued_invoice_cannot_be_edited_or_deleted(client, charlie, alice_invoice):
    client.force_login(charlie)
    url = reverse("admin:billing_invoice_change", args=[alice_invoice.pk])
    client.post(url, {"total": 1})
    alice_invoice.refresh_from_db()
    assert alice_invoice.total == 600
    delete = client.get(reverse("admin:billing_invoice_delete", args=[alice_invoice.pk]))
    assert delete.status_code == 403


@pytest.fixture
def viewer_client(client, db):
    """A staff member who may look at invoices but not change them."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(email="viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client.force_login(viewer)
    return client


@pytest.mark.parametrize("action", ["mark_paid", "cancel", "refund_in_full"])
def test_it_refuses_invoice_actions_to_staff_who_may_only_view(
    viewer_client, alice_invoice, action
):
    changelist = viewer_client.get(reverse("admin:billing_invoice_changelist"))
    assert changelist.status_code == 200
    assert f'value="{action}"' not in changelist.content.decode()

    _action(viewer_client, action, alice_invoice)

    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.UNPAID
    assert alice_invoice.order.services.get().status == ServiceStatus.PENDING


def test_an_order_page_costs_the_same_queries_for_more_services(client, charlie, alice, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.services.orders import CartLine, order_place

    client.force_login(charlie)
    counts = []
    for size in (1, 6):
        line = CartLine(product_id=plan.pk, cycle="monthly")
        order = order_place(user=alice, lines=[line] * size, currency="EUR")
        url = reverse("admin:billing_order_change", args=[order.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _billing_history(plan, customers: int) -> None:
    """Per customer: a paid order with a payment, a credit note, a card and an event."""
    from billing.models import CreditNote, Payment
    from billing.services.invoices import invoice_mark_paid
    from billing.services.orders import CartLine, order_place
    from tests.factories import UserFactory

    for _ in range(customers):
        user = UserFactory()
        line = CartLine(product_id=plan.pk, cycle="monthly")
        invoice = order_place(user=user, lines=[line], currency="EUR").invoices.get()
        Payment.objects.create(
            invoice=invoice,
            attempt=1,
            amount=invoice.total,
            currency="EUR",
            stripe_payment_intent_id=f"pi_{user.pk}",
        )
        invoice_mark_paid(invoice=invoice)
        CreditNote.objects.create(
            invoice=invoice,
            year=invoice.year,
            sequence=user.pk,
            number=f"CN-T-{user.pk}",
            amount=1,
            currency="EUR",
            issued_on=invoice.issued_on,
        )
        PaymentMethodFactory(user=user)
        StripeEvent.objects.create(event_id=f"evt_{user.pk}", type="x", payload={})


def test_billing_changelists_cost_the_same_queries_for_more_rows(client, charlie, plan, subtests):
    """The lists share one billing history, made once (its orders and payments go through
    the services, most of this test's cost), and each is measured after each growth, with
    a subtest (a report) of its own."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(charlie)
    counts: dict[str, list[int]] = {model: [] for model in MODELS}
    for customers in (1, 5):
        _billing_history(plan, customers)
        for model in MODELS:
            url = reverse(f"admin:billing_{model}_changelist")
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts[model].append(len(queries))
    for model in MODELS:
        with subtests.test(model=model):
            assert counts[model][0] == counts[model][1]


@pytest.mark.parametrize("action", ["cancel", "mark_paid"])
def test_an_invoice_whose_card_payment_is_on_its_way_is_neither_cancelled_nor_marked_paid(
    client, charlie, alice_invoice, action
):
    from billing.models import Payment

    Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=alice_invoice.total,
        currency=alice_invoice.currency,
        stripe_payment_intent_id="pi_3Processing",
    )
    client.force_login(charlie)

    body = _action(client, action, alice_invoice).content.decode()

    assert "is in progress" in body
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.UNPAID
    assert alice_invoice.order.services.get().status == ServiceStatus.PENDING


def test_cancelling_an_invoice_cancels_its_payment_waiting_for_3d_secure_at_stripe(
    client, charlie, alice_invoice, fake_stripe
):
    from billing.models import Payment, PaymentStatus

    payment = Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=alice_invoice.total,
        currency=alice_invoice.currency,
        stripe_payment_intent_id="pi_3Waiting",
        status=PaymentStatus.REQUIRES_ACTION,
    )
    canceled = {
        "id": "pi_3Waiting",
        "object": "payment_intent",
        "amount": alice_invoice.total,
        "currency": "eur",
        "status": "canceled",
        "metadata": {},
    }
    http = fake_stripe(
        {("POST", "/v1/payment_intents/pi_3Waiting/cancel"): lambda params: (200, canceled)}
    )
    client.force_login(charlie)

    _action(client, "cancel", alice_invoice)

    assert [path for _, path, _, _ in http.requests] == ["/v1/payment_intents/pi_3Waiting/cancel"]
    payment.refresh_from_db()
    alice_invoice.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert alice_invoice.status == InvoiceStatus.CANCELLED


def test_staff_cannot_delete_payments_or_saved_cards(client, charlie, alice_invoice):
    from billing.models import Payment

    payment = Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=600,
        currency="EUR",
        stripe_payment_intent_id="pi_1",
    )
    card = PaymentMethodFactory(user=alice_invoice.user)
    client.force_login(charlie)
    for model, obj in (("payment", payment), ("paymentmethod", card)):
        url = reverse(f"admin:billing_{model}_delete", args=[obj.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        assert type(obj).objects.filter(pk=obj.pk).exists()
