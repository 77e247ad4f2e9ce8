"""Fraud signals, each with its reason in words, and what a high score does."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from billing.models import BillingAccount, InvoiceStatus, Order, Payment
from billing.services.orders import CartLine, order_place
from billing.services.payments import invoice_pay
from tests.factories import PaymentMethodFactory, UserFactory
from tests.verification import stripe_shapes
from tests.verification.factories import CaseFactory
from verification import risk
from verification.models import CardAttempt, Case, CaseReason, RiskAssessment, RiskSubject

CLOUDFLARE = "173.245.48.0/20"
PROXY = "173.245.48.10"


@pytest.fixture
def geolite(tmp_path, settings):
    """A real GeoLite2-Country database (MaxMind DB format), read through geoip2."""
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "FR"}})
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "GB"}})
    path = tmp_path / "GeoLite2-Country.mmdb"
    writer.to_db_file(str(path))
    settings.VERIFICATION_GEOIP_DATABASE = str(path)
    return path


def visitor(**meta: str) -> risk.Visitor:
    request = RequestFactory().get("/")
    request.META.update(meta)
    return risk.visitor_from_request(request)


def test_cf_ipcountry_is_believed_only_from_a_trusted_proxy(settings):
    settings.VERIFICATION_TRUSTED_PROXIES = [CLOUDFLARE]
    trusted = visitor(
        REMOTE_ADDR=PROXY, HTTP_CF_IPCOUNTRY="FR", HTTP_CF_CONNECTING_IP="203.0.113.7"
    )
    assert trusted == risk.Visitor(
        ip_address="203.0.113.7", country="FR", country_source="Cloudflare"
    )
    spoofed = visitor(
        REMOTE_ADDR="192.0.2.50", HTTP_CF_IPCOUNTRY="FR", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert spoofed == risk.Visitor(ip_address="192.0.2.50")


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(settings):
    settings.VERIFICATION_TRUSTED_PROXIES = [CLOUDFLARE]
    behind = visitor(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert behind.ip_address == "203.0.113.7"  # the hop the proxy saw, not the claim
    settings.VERIFICATION_TRUSTED_PROXIES = []
    assert visitor(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7").ip_address == PROXY


def test_the_country_comes_from_geolite2_when_no_trusted_header_gives_it(geolite, settings):
    assert visitor(REMOTE_ADDR="203.0.113.7") == risk.Visitor(
        ip_address="203.0.113.7", country="FR", country_source="GeoLite2"
    )
    assert visitor(REMOTE_ADDR="192.0.2.1").country == ""  # not in the database
    settings.VERIFICATION_TRUSTED_PROXIES = [CLOUDFLARE]
    assert (
        visitor(
            REMOTE_ADDR=PROXY, HTTP_CF_IPCOUNTRY="XX", HTTP_CF_CONNECTING_IP="198.51.100.4"
        ).country
        == "GB"
    )


def test_each_signal_has_its_reason_in_words(db, settings):
    settings.VERIFICATION_CARD_ATTEMPTS_LIMIT = 3
    user = UserFactory(email="someone@mailinator.com", country="GB")
    for fingerprint in ("fp1", "fp2", "fp3"):
        CardAttempt.objects.create(user=user, card_fingerprint=fingerprint)
    assessed = risk.assess(
        user=user,
        visitor=risk.Visitor(ip_address="203.0.113.7", country="FR", country_source="Cloudflare"),
        card_country="US",
    )
    assert assessed.reasons == (
        "The visitor's country (FR, from Cloudflare) is not the billing country (GB).",
        "The card's country (US) is not the billing country (GB).",
        "The card's country (US) is not the visitor's country (FR).",
        "The email address is at a disposable email domain (mailinator.com).",
        "3 different cards were tried within 60 minutes.",
    )
    assert assessed.score == 100
    quiet = risk.assess(user=UserFactory(country="GB"), visitor=None, card_country="GB")
    assert (quiet.score, quiet.reasons) == (0, ())


def test_radar_in_words():
    assert risk.radar_signal(risk_level="highest", risk_score=91) == (
        60,
        "Stripe Radar rates the charge highest risk, score 91.",
    )
    assert risk.radar_signal(risk_level="not_assessed", risk_score=None) == (0, "")


def test_every_order_gets_a_score_shown_to_staff(client, plan, settings, charlie):
    settings.VERIFICATION_TRUSTED_PROXIES = [CLOUDFLARE]
    user = UserFactory(email="buyer@mailinator.com", country="GB")
    client.force_login(user)
    client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    client.post(
        reverse("billing:checkout"),
        {"vat_number": ""},
        REMOTE_ADDR=PROXY,
        HTTP_CF_IPCOUNTRY="FR",
        HTTP_CF_CONNECTING_IP="203.0.113.7",
    )
    order = Order.objects.get(user=user)
    score = RiskAssessment.objects.get(subject=RiskSubject.ORDER, subject_id=order.pk)
    assert score.score == 55 and score.ip_country == "FR"
    client.force_login(charlie)
    listing = client.get(reverse("admin:billing_order_changelist"))
    assert '<td class="field-fraud_score">55</td>' in listing.text
    detail = client.get(reverse("admin:billing_order_change", args=[order.pk]))
    assert "disposable email domain (mailinator.com)" in detail.text


def test_above_the_threshold_a_3ds_card_waits_for_review(fake_stripe, client, plan, geolite):
    user = UserFactory(email="buyer@mailinator.com", country="GB")
    BillingAccount.objects.create(user=user, stripe_customer_id="cus_Verify")
    card = PaymentMethodFactory(user=user, country="US", three_d_secure_supported=True)
    http = fake_stripe({})
    invoice = order_place(
        user=user, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    client.force_login(user)
    response = client.post(
        reverse("billing:invoice_pay", args=[invoice.pk]),
        {"payment_method": card.pk},
        REMOTE_ADDR="203.0.113.7",
    )
    case = Case.objects.get(user=user)
    assert response["Location"] == reverse("verification:case", args=[case.pk])
    assert case.reason == CaseReason.RISK and case.card_three_d_secure is True
    # disposable domain 30, visitor FR (GeoLite2) vs GB 25, card US vs GB 20, US vs FR 10
    assert case.risk_score == 85 and case.ip_country == "FR"
    assert "The card's country (US) is not the billing country (GB)." in case.risk_reasons
    assert http.requests == []  # nothing charged
    invoice.refresh_from_db()
    assert invoice.status != InvoiceStatus.PAID


def test_the_payment_and_the_review_show_the_score(client, charlie, alice_invoice, alice_case):
    payment = Payment.objects.create(invoice=alice_invoice, attempt=1, amount=600, currency="EUR")
    RiskAssessment.objects.create(
        user=alice_invoice.user,
        subject=RiskSubject.PAYMENT,
        subject_id=payment.pk,
        score=30,
        reasons=["Stripe Radar rates the charge elevated risk, score 67."],
    )
    alice_case.risk_score = 45
    alice_case.risk_reasons = ["The card's country (US) is not the billing country (GB)."]
    alice_case.status = "under_review"
    alice_case.save()
    client.force_login(charlie)
    page = client.get(reverse("admin:verification_reviewcase_change", args=[alice_case.pk]))
    assert "The card&#x27;s country (US) is not the billing country (GB)." in page.text
    queue = client.get(reverse("admin:verification_reviewcase_changelist"))
    assert '<td class="field-risk_score">45</td>' in queue.text
    listing = client.get(reverse("admin:billing_payment_changelist"))
    assert '<td class="field-fraud_score">30</td>' in listing.text
    detail = client.get(reverse("admin:billing_payment_change", args=[payment.pk]))
    assert "Stripe Radar rates the charge elevated risk, score 67." in detail.text


def test_an_approved_customer_pays_even_with_a_high_score(fake_stripe, plan, geolite):
    user = UserFactory(email="buyer@mailinator.com", country="GB")
    CaseFactory(user=user, status="approved", card_fingerprint="fp-old")
    BillingAccount.objects.create(user=user, stripe_customer_id="cus_Verify")
    card = PaymentMethodFactory(user=user, country="US", three_d_secure_supported=True)
    http = fake_stripe(
        {
            ("POST", "/v1/payment_intents"): lambda params: (
                200,
                stripe_shapes.payment_intent(params),
            )
        }
    )
    invoice = order_place(
        user=user, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    visitor = risk.Visitor(ip_address="203.0.113.7", country="FR", country_source="GeoLite2")
    outcome = invoice_pay(invoice=invoice, payment_method=card, visitor=visitor)
    assert outcome.payment.status == "succeeded" and len(http.requests) == 1
    score = RiskAssessment.objects.get(subject=RiskSubject.PAYMENT, subject_id=outcome.payment.pk)
    assert score.score >= 60  # still recorded for staff
