"""The gateway over an injected HTTP client answering as Stripe's API reference shows:
what localstripe cannot do (retries, Radar and authentication_required declines)."""

from __future__ import annotations

import pytest

from billing import gateway
from billing.models import BillingAccount, InvoiceStatus, PaymentStatus
from billing.services.cards import card_setup_complete
from billing.services.customers import stripe_customer_ensure
from billing.services.payments import invoice_pay
from billing.services.scheduled_charges import invoice_auto_charge, invoices_to_auto_charge
from core.exceptions import ApplicationError
from tests.factories import PaymentMethodFactory


def intent_body(status: str, **extra: object) -> dict[str, object]:
    return {
        "id": "pi_3Fake",
        "object": "payment_intent",
        "amount": 600,
        "currency": "eur",
        "status": status,
        "client_secret": "pi_3Fake_secret_xyz",
        "latest_charge": "ch_3Fake",
        "last_payment_error": None,
        "metadata": {},
        **extra,
    }


def card_error(
    code: str, decline_code: str, intent: dict[str, object] | None = None
) -> tuple[int, dict[str, object]]:
    error: dict[str, object] = {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": "Your card was declined.",
    }
    if intent is not None:
        error["payment_intent"] = intent
    return 402, {"error": error}


@pytest.fixture
def alice_card(alice):
    BillingAccount.objects.update_or_create(user=alice, defaults={"stripe_customer_id": "cus_Fake"})
    return PaymentMethodFactory(user=alice)


def test_it_retries_a_server_error_with_the_same_idempotency_key(
    fake_stripe, alice_invoice, alice_card
):
    answers = iter([(500, {"error": {"type": "api_error"}}), (200, intent_body("succeeded"))])
    http = fake_stripe({("POST", "/v1/payment_intents"): lambda params: next(answers)})
    outcome = invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    assert outcome.payment.status == PaymentStatus.SUCCEEDED
    keys = [headers.get("Idempotency-Key") for _, _, _, headers in http.requests]
    assert keys == [outcome.payment.idempotency_key] * 2
    assert keys[0].startswith(f"invoice-{alice_invoice.pk}-attempt-1-")
    params = http.requests[0][2]
    assert (params["amount"], params["currency"], params["confirm"]) == ("600", "eur", "true")


def test_a_second_attempt_gets_a_new_idempotency_key(fake_stripe, alice_invoice, alice_card):
    answers = iter(
        [card_error("card_declined", "insufficient_funds"), (200, intent_body("succeeded"))]
    )
    http = fake_stripe({("POST", "/v1/payment_intents"): lambda params: next(answers)})
    with pytest.raises(ApplicationError, match="insufficient funds"):
        invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    keys = [headers.get("Idempotency-Key") for _, _, _, headers in http.requests]
    assert keys == [p.idempotency_key for p in alice_invoice.payments.order_by("attempt")]
    assert [key.rsplit("-", 1)[0] for key in keys] == [
        f"invoice-{alice_invoice.pk}-attempt-1",
        f"invoice-{alice_invoice.pk}-attempt-2",
    ]


@pytest.mark.parametrize(
    ("code", "decline_code", "words"),
    [
        ("card_declined", "fraudulent", "Your card was declined by your bank."),  # Radar block
        ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
        ("expired_card", "", "Your card has expired."),
        ("incorrect_cvc", "", "The card's security code is incorrect."),
    ],
)
def test_declines_are_told_in_plain_words(
    fake_stripe, alice_invoice, alice_card, code, decline_code, words
):
    fake_stripe({("POST", "/v1/payment_intents"): lambda params: card_error(code, decline_code)})
    with pytest.raises(ApplicationError) as declined:
        invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    assert declined.value.message == words
    assert alice_invoice.payments.get().failure_message == words


def test_off_session_authentication_required_asks_the_customer_to_pay_in_the_client_area(
    fake_stripe, alice_invoice, alice_card, django_capture_on_commit_callbacks, mailoutbox
):
    intent = intent_body(
        "requires_payment_method",
        last_payment_error={
            "code": "authentication_required",
            "decline_code": "authentication_required",
        },
    )
    http = fake_stripe(
        {
            ("POST", "/v1/payment_intents"): lambda params: card_error(
                "authentication_required", "authentication_required", intent
            )
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = invoice_auto_charge(invoice_id=alice_invoice.pk)
    assert http.requests[0][2]["off_session"] == "true"
    assert outcome.payment.status == PaymentStatus.FAILED
    assert outcome.payment.failure_message == "Your bank asks you to confirm this payment."
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.UNPAID
    assert [m.subject for m in mailoutbox][-1] == (
        f"We could not charge your card for invoice {alice_invoice.number}"
    )


def test_an_unreachable_stripe_is_told_plainly(fake_stripe, alice_invoice, alice_card):
    fake_stripe(
        {("POST", "/v1/payment_intents"): lambda params: (503, {"error": {"type": "api_error"}})}
    )
    with pytest.raises(ApplicationError, match="could not complete"):
        invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    assert alice_invoice.payments.get().status == PaymentStatus.FAILED


def test_a_rejected_api_key_is_told_plainly(fake_stripe, alice):
    fake_stripe(
        {
            ("POST", "/v1/customers"): lambda params: (
                401,
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}},
            )
        }
    )
    with pytest.raises(gateway.PaymentError, match="rejected our API key"):
        stripe_customer_ensure(user=alice)


def test_a_card_without_3d_secure_support_is_recorded_as_such(fake_stripe, alice):
    BillingAccount.objects.update_or_create(user=alice, defaults={"stripe_customer_id": "cus_Fake"})
    fake_stripe(
        {
            ("GET", "/v1/setup_intents/seti_Fake"): lambda params: (
                200,
                {
                    "id": "seti_Fake",
                    "object": "setup_intent",
                    "status": "succeeded",
                    "customer": "cus_Fake",
                    "payment_method": "pm_No3DS",
                    "client_secret": "seti_Fake_secret_x",
                },
            ),
            ("GET", "/v1/payment_methods/pm_No3DS"): lambda params: (
                200,
                {
                    "id": "pm_No3DS",
                    "object": "payment_method",
                    "type": "card",
                    "customer": "cus_Fake",
                    "card": {
                        "brand": "visa",
                        "last4": "0005",
                        "exp_month": 3,
                        "exp_year": 2030,
                        "country": "GB",
                        "fingerprint": "fpNo3DS",
                        "three_d_secure_usage": {"supported": False},
                    },
                },
            ),
        }
    )
    card = card_setup_complete(user=alice, setup_intent_id="seti_Fake")
    assert card.three_d_secure_supported is False
    assert (card.last4, card.country) == ("0005", "GB")


def test_an_interrupted_attempt_stops_blocking_after_a_while(
    fake_stripe, alice_invoice, alice_card
):
    import datetime as dt

    from django.utils import timezone

    from billing.models import Payment

    stuck = Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=600,
        currency="EUR",
        status=PaymentStatus.PROCESSING,
    )
    fake_stripe({("POST", "/v1/payment_intents"): lambda params: (200, intent_body("succeeded"))})
    with pytest.raises(ApplicationError, match="already in progress"):
        invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    tomorrow = alice_invoice.due_date + dt.timedelta(days=1)
    assert invoices_to_auto_charge(today=tomorrow, max_attempts=3) == []
    Payment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - dt.timedelta(minutes=20))
    assert invoices_to_auto_charge(today=tomorrow, max_attempts=3) == [alice_invoice.pk]
    outcome = invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    assert outcome.payment.attempt == 2
    stuck.refresh_from_db()
    assert stuck.status == PaymentStatus.FAILED
    assert "interrupted" in stuck.failure_message


def test_a_failing_webhook_handler_keeps_nothing_and_records_why(fake_stripe, alice):
    from billing.models import StripeEvent
    from billing.services.stripe_events import stripe_event_apply

    BillingAccount.objects.create(user=alice, stripe_customer_id="cus_Fake")
    fake_stripe({})  # every call answers 404
    event = StripeEvent.objects.create(
        event_id="evt_fail",
        type="setup_intent.succeeded",
        payload={
            "data": {
                "object": {"id": "seti_1", "customer": "cus_Fake", "payment_method": "pm_Missing"}
            }
        },
    )
    with pytest.raises(gateway.PaymentError):
        stripe_event_apply(event_pk=event.pk)
    event.refresh_from_db()
    assert event.processed_at is None
    assert event.error.startswith("PaymentError")


def test_a_new_attempt_cancels_the_one_still_waiting_for_authentication(
    fake_stripe, alice_invoice, alice_card
):
    created = iter(
        [
            (200, intent_body("requires_action", id="pi_3First")),
            (200, intent_body("succeeded", id="pi_3Second")),
        ]
    )
    http = fake_stripe(
        {
            ("POST", "/v1/payment_intents"): lambda params: next(created),
            ("POST", "/v1/payment_intents/pi_3First/cancel"): lambda params: (
                200,
                intent_body("canceled", id="pi_3First"),
            ),
        }
    )
    first = invoice_pay(invoice=alice_invoice, payment_method=alice_card)
    assert first.client_secret

    second = invoice_pay(invoice=alice_invoice, payment_method=alice_card)

    assert [path for _, path, _, _ in http.requests] == [
        "/v1/payment_intents",
        "/v1/payment_intents/pi_3First/cancel",
        "/v1/payment_intents",
    ]
    first.payment.refresh_from_db()
    assert first.payment.status == PaymentStatus.FAILED
    assert second.payment.status == PaymentStatus.SUCCEEDED


def test_an_earlier_attempt_that_succeeded_meanwhile_is_not_charged_again(
    fake_stripe, alice_invoice, alice_card
):
    unexpected_state = {
        "error": {
            "type": "invalid_request_error",
            "code": "payment_intent_unexpected_state",
            "message": "This PaymentIntent's status is succeeded.",
        }
    }
    http = fake_stripe(
        {
            ("POST", "/v1/payment_intents"): lambda params: (
                200,
                intent_body("requires_action", id="pi_3First"),
            ),
            ("POST", "/v1/payment_intents/pi_3First/cancel"): lambda params: (
                400,
                unexpected_state,
            ),
            ("GET", "/v1/payment_intents/pi_3First"): lambda params: (
                200,
                intent_body("succeeded", id="pi_3First"),
            ),
        }
    )
    invoice_pay(invoice=alice_invoice, payment_method=alice_card)

    with pytest.raises(ApplicationError, match="nothing left to pay"):
        invoice_pay(invoice=alice_invoice, payment_method=alice_card)

    assert [m for m, path, _, _ in http.requests if path == "/v1/payment_intents"] == ["POST"]
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == InvoiceStatus.PAID
