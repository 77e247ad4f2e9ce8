"""Helpers the tests share: builders and constants, imported by any test module.

Fixtures live in conftest.py files and, when more than one folder uses them, in
tests/fixtures.py; model factories in factories.py; the real servers tests start (SMTP,
redis-server, a Celery worker) in servers.py. No test module imports another test
module or a conftest."""

from __future__ import annotations

import io
import json
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import stripe
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from billing.models import Payment, PaymentMethod, Service
from billing.services.cards import card_setup_begin, card_setup_complete
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.orders import CartLine, order_place
from notifications.models import OutboxMessage
from privacy.models import LegalDocument
from provisioning.models import Server, ServerGroup
from provisioning.services import server_secret_set
from tests.stripe_fixtures import signed

# A complete sign-up form (every field the sign-up page asks for).
SIGNUP = {
    "email": "new@example.com",
    "password1": "a-long-enough-passphrase",
    "password2": "a-long-enough-passphrase",
    "full_name": "Nia Newcomer",
    "business_name": "Newcomer Hosting Ltd",
    "phone": "+14155550123",
    "address_line1": "1 Market St",
    "address_line2": "Suite 200",
    "city": "San Francisco",
    "postcode": "94105",
    "region": "CA",
    "country": "US",
    "accept_terms": "on",
}

# A complete profile form.
PROFILE = {
    "full_name": "Alice A. Archer",
    "business_name": "Archer Web Ltd",
    "phone": "+33142685300",
    "address_line1": "5 Rue de Rivoli",
    "address_line2": "",
    "city": "Paris",
    "postcode": "75001",
    "region": "",
    "country": "FR",
}


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


def free_port() -> int:
    """A TCP port free on loopback now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_status(pk: int, status: str, timeout: float = 60.0) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    row = OutboxMessage.objects.get(pk=pk)
    while time.monotonic() < deadline:
        row = OutboxMessage.objects.get(pk=pk)
        if row.status == status:
            return row
        time.sleep(0.05)
    raise AssertionError(f"Row {pk} is {row.status}, expected {status}")


# --- Stripe webhooks: events shaped like Stripe's, signed and posted as Stripe does ---


def event(type_: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{type_.replace('.', '_')}_{obj.get('id', 'x')}",
        "object": "event",
        "api_version": "2025-10-29.clover",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": type_,
        "data": {"object": obj},
    }


def payment_intent(payment: Payment, status: str, **extra) -> dict[str, Any]:
    return {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": payment.amount,
        "currency": payment.currency.lower(),
        "status": status,
        "client_secret": f"{payment.stripe_payment_intent_id}_secret_abc",
        "latest_charge": "ch_1",
        "last_payment_error": None,
        "metadata": {"invoice_id": str(payment.invoice_id), "payment_id": str(payment.pk)},
        **extra,
    }


def deliver(client, payload: dict[str, Any], capture, **sign):
    body, header = signed(payload, **sign)
    with capture(execute=True):
        return client.post(
            reverse("billing:stripe_webhook"),
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )


# --- localstripe: cards saved as Stripe.js would save them ---

VISA = "4242424242424242"
DECLINED = "4000000000000341"  # saves, then every charge is declined
NEEDS_3DS = "4000002760003184"


def post_json(url: str, data: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback localstripe
        url, data=json.dumps(data).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def confirm_setup_in_browser(base: str, client_secret: str, number: str) -> str:
    """What Stripe.js confirmCardSetup sends; returns the SetupIntent id."""
    setup_intent_id = client_secret.split("_secret_")[0]
    body = post_json(
        f"{base}/v1/setup_intents/{setup_intent_id}/confirm",
        {
            "key": "pk_test_localstripe",
            "use_stripe_sdk": True,
            "client_secret": client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
                "billing_details": {"address": {"postal_code": "NW1 6XE"}},
            },
        },
    )
    if body["status"] == "requires_action":  # the customer clicks "Complete authentication"
        body = post_json(
            f"{base}/v1/setup_intents/{setup_intent_id}/confirm",
            {"key": "pk_test_localstripe", "use_stripe_sdk": True, "client_secret": client_secret},
        )
    assert body["status"] == "succeeded", body
    return setup_intent_id


def save_card(localstripe: str, user, number: str = VISA) -> PaymentMethod:
    intent = card_setup_begin(user=user)
    return card_setup_complete(
        user=user,
        setup_intent_id=confirm_setup_in_browser(localstripe, intent.client_secret, number),
    )


def stripe_client(localstripe: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_localstripe", base_addresses={"api": localstripe})


def order_and_pay(user, product, capture):
    """A monthly order of `product` paid outside Stripe, its on-commit work run
    (`capture` is pytest-django's django_capture_on_commit_callbacks); its service."""
    with capture(execute=True):
        order = order_place(
            user=user, lines=[CartLine(product_id=product.pk, cycle="monthly")], currency="EUR"
        )
    invoice = order.invoices.get()
    with capture(execute=True):
        invoice_mark_paid_outside_stripe(invoice=invoice)
    return Service.objects.get(order=order)


# --- Support: attachments and email in ---

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.SUPPORT_ATTACHMENTS_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


EMAILS = Path(__file__).parent / "support" / "emails"


def eml(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def pipe_email(raw: bytes) -> str:
    """Runs the management command as a mail server's pipe would: the message on stdin."""
    import io
    import sys

    from django.core.management import call_command

    stdin, stdout = sys.stdin, io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw))
    try:
        call_command("support_receive_email", stdout=stdout)
    finally:
        sys.stdin = stdin
    return stdout.getvalue()


def reply_email(
    *, to: str, subject: str, body: str, sender: str = "alice@example.com", **headers: str
) -> bytes:
    from email.message import EmailMessage
    from email.utils import make_msgid

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


# --- Provisioning: panel secrets and servers ---

WHM_TOKEN = "WHMTOKEN1234567890ABCDEF"


PVE_TOKEN = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


GENERIC_SECRET = "whsec-generic-test-secret"


def make_server(module: str, *, secret: str, **fields: object) -> Server:
    group, _ = ServerGroup.objects.get_or_create(name=f"{module} servers", module=module)
    server = Server.objects.create(group=group, name=f"{module}-1", **fields)
    server_secret_set(server=server, secret=secret)
    return server


# --- Privacy: a legal document not yet published ---


def draft(kind="privacy", version=2, body="## New section\n\nWe changed things.", **extra):
    return LegalDocument.objects.create(
        kind=kind,
        version=version,
        title="Privacy policy" if kind == "privacy" else "Terms of service",
        body=body,
        change_summary=extra.pop("change_summary", "We now keep sign-in data for 90 days."),
        effective_date=extra.pop("effective_date", timezone.localdate()),
        **extra,
    )


# --- Notifications: the Twilio test sender ---

FROM_NUMBER = "+15005550006"


def product_admin_form(product, **changes: str) -> dict[str, str]:
    """What the admin's product page posts back unchanged (the product and its price
    inline, amounts in major units as staff type them), with `changes` on top."""
    prices = list(product.prices.order_by("pk"))
    data = {
        "name": product.name,
        "slug": product.slug,
        "kind": product.kind,
        "category": product.category,
        "description": product.description,
        "sort_order": str(product.sort_order),
        "is_active": "on",
        "prices-TOTAL_FORMS": str(len(prices)),
        "prices-INITIAL_FORMS": str(len(prices)),
        "prices-MIN_NUM_FORMS": "0",
        "prices-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(prices):
        data |= {
            f"prices-{index}-id": str(row.pk),
            f"prices-{index}-product": str(product.pk),
            f"prices-{index}-currency": row.currency,
            f"prices-{index}-cycle": row.cycle,
            f"prices-{index}-amount": f"{row.amount / 100:.2f}",
            f"prices-{index}-setup_fee": f"{row.setup_fee / 100:.2f}",
        }
    return data | changes
