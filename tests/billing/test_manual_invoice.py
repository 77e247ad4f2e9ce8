"""Staff issue a manual invoice and record a bank transfer; every change is audited."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from accounts.models import User
from billing.models import Invoice, InvoiceStatus, PaymentMethodKind, PaymentStatus, ServiceStatus


@pytest.fixture
def staff(client, charlie):
    client.force_login(charlie)
    return client


def _manual(staff, email, lines, **extra):
    data = {
        "customer_email": email,
        "currency": "EUR",
        "due_date": "2026-12-31",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "50",
    }
    for index, (description, quantity, unit_price) in enumerate(lines):
        data |= {
            f"lines-{index}-description": description,
            f"lines-{index}-quantity": str(quantity),
            f"lines-{index}-unit_price": unit_price,
        }
    return staff.post(reverse("admin:billing_invoice_manual"), data | extra)


def test_staff_issue_a_manual_invoice_taxed_by_the_order_rule(staff, charlie, alice, uk_vat):
    response = _manual(
        staff, alice.email, [("Site migration, hours", 2, "40.00"), ("Domain transfer", 1, "12.00")]
    )

    invoice = Invoice.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:billing_invoice_change", args=[invoice.pk])
    assert invoice.number.startswith("INV-")
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (9200, 1840, 11040)
    assert invoice.tax_name == "VAT" and invoice.status == InvoiceStatus.UNPAID
    assert [(line.quantity, line.unit_amount, line.amount) for line in invoice.lines.all()] == [
        (2, 4000, 8000),
        (1, 1200, 1200),
    ]
    entry = LogEntry.objects.get_for_object(invoice).get(action=LogEntry.Action.CREATE)
    assert entry.actor == charlie


def test_a_manual_invoice_for_an_unknown_customer_is_a_form_error(staff, db):
    response = _manual(staff, "nobody@example.com", [("Work", 1, "10.00")])

    assert response.status_code == 200
    assert "No customer has the address nobody@example.com." in response.text
    assert not Invoice.objects.exists()


def test_a_manual_invoice_needs_a_line(staff, alice):
    response = _manual(staff, alice.email, [("", 1, "")])

    assert response.status_code == 200
    assert not Invoice.objects.exists()


def _transfer(staff, invoice, amount, reference="BANK-REF-7781"):
    return staff.post(
        reverse("admin:billing_invoice_bank_transfer", args=[invoice.pk]),
        {"amount": amount, "reference": reference, "received_on": "2026-11-30"},
    )


def test_staff_record_a_bank_transfer_and_the_invoice_is_paid(staff, charlie, alice_invoice):
    page = staff.get(reverse("admin:billing_invoice_change", args=[alice_invoice.pk]))
    assert reverse("admin:billing_invoice_bank_transfer", args=[alice_invoice.pk]) in page.text

    response = _transfer(staff, alice_invoice, "6.00")

    assert response.status_code == 302
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
    assert alice_invoice.order.services.get().status == ServiceStatus.ACTIVE
    payment = alice_invoice.payments.get()
    assert payment.method == PaymentMethodKind.BANK_TRANSFER
    assert payment.reference == "BANK-REF-7781"
    assert str(payment.received_on) == "2026-11-30"
    assert (payment.amount, payment.status) == (600, PaymentStatus.SUCCEEDED)
    # Audited: the payment's creation and the invoice's status change, both by charlie.
    created = LogEntry.objects.get_for_object(payment).get()
    assert created.actor == charlie and created.action == LogEntry.Action.CREATE
    status = LogEntry.objects.get_for_object(alice_invoice).get(action=LogEntry.Action.UPDATE)
    assert status.actor == charlie
    assert status.changes_dict["status"] == ["unpaid", "paid"]


def test_a_transfer_that_is_not_the_total_is_refused(staff, alice_invoice):
    response = _transfer(staff, alice_invoice, "5.00")

    assert response.status_code == 200
    assert "must match the invoice total (€6.00)" in response.text
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.UNPAID
    assert not alice_invoice.payments.exists()


def test_a_second_transfer_on_a_paid_invoice_is_refused(staff, alice_invoice):
    _transfer(staff, alice_invoice, "6.00")

    response = _transfer(staff, alice_invoice, "6.00", reference="AGAIN")

    assert "is not awaiting payment" in response.text
    assert alice_invoice.payments.count() == 1


def test_staff_changes_to_a_customer_are_audited(staff, charlie, alice):
    alice.full_name = "Alice Archer-Smith"
    alice.save()  # outside a request: an entry without an actor
    LogEntry.objects.all().delete()
    url = reverse("admin:accounts_user_change", args=[alice.pk])
    form = staff.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"groups", "user_permissions", "password"}
    }
    data |= {
        "full_name": "Alice Baker",
        "country": "GB",
        "date_joined_0": "2026-12-01",
        "date_joined_1": "09:00:00",
    }

    response = staff.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = LogEntry.objects.get_for_object(User.objects.get(pk=alice.pk)).get()
    assert entry.actor == charlie
    assert entry.changes_dict["full_name"] == ["Alice Archer-Smith", "Alice Baker"]


def test_erasing_a_customer_removes_their_audit_trail(alice):
    from accounts.personal_data import erase

    alice.full_name = "Alice Changed"
    alice.save()
    assert LogEntry.objects.get_for_object(alice).exists()

    erase(alice)

    assert not LogEntry.objects.get_for_object(alice).exists()


def test_a_refund_in_full_by_staff_is_audited_and_shown_on_the_invoice(
    staff, charlie, alice_invoice, fake_stripe
):
    from billing.models import CreditNote
    from tests.factories import PaymentFactory

    payment = PaymentFactory(invoice=alice_invoice, status=PaymentStatus.SUCCEEDED)
    Invoice.objects.filter(pk=alice_invoice.pk).update(status=InvoiceStatus.PAID)
    refund = {
        "id": "re_Staff1",
        "object": "refund",
        "amount": alice_invoice.total,
        "currency": "eur",
        "status": "succeeded",
        "payment_intent": payment.stripe_payment_intent_id,
    }
    fake_stripe({("POST", "/v1/refunds"): lambda params: (200, refund)})
    LogEntry.objects.all().delete()

    staff.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "refund_in_full", "_selected_action": [alice_invoice.pk]},
    )

    note = CreditNote.objects.get(invoice=alice_invoice)
    created = LogEntry.objects.get_for_object(note).get()
    assert created.actor == charlie and created.action == LogEntry.Action.CREATE
    refunded = LogEntry.objects.get_for_object(alice_invoice).filter(
        additional_data__note__startswith="Refunded in full by staff"
    )
    entry = refunded.get()
    assert entry.actor == charlie
    assert entry.changes["status"] == ["paid", "refunded"]
    assert f"credit note {note.number} of €6.00 (Stripe re_Staff1)" in entry.additional_data["note"]
    page = staff.get(reverse("admin:billing_invoice_change", args=[alice_invoice.pk])).text
    trail = page[page.index('id="audit-trail-title"') :]
    assert "Charlie Staff" in trail
    assert f"Refunded in full by staff: credit note {note.number}" in trail
    assert "create credit note" in trail
    assert "amount: None → €6.00" in trail  # amounts as money, not cents
