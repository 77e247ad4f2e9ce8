"""Services, invoices and PDFs in the client area: owner, another customer, staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Invoice
from billing.services.orders import CartLine, order_place


def test_it_lists_the_customers_services(alice_client, alice_invoice):
    body = alice_client.get(reverse("billing:services")).content.decode()
    assert "Starter hosting" in body
    assert "Pending payment" in body


def test_it_lists_the_customers_invoices(alice_client, alice_invoice):
    body = alice_client.get(reverse("billing:invoices")).content.decode()
    assert alice_invoice.number in body
    assert "€6.00" in body


def test_it_shows_an_invoice_with_its_lines_and_tax(alice_client, alice_invoice):
    body = alice_client.get(reverse("billing:invoice_detail", args=[alice_invoice.pk])).content
    body = body.decode()
    assert f"Invoice {alice_invoice.number}" in body
    assert "Starter hosting (monthly)" in body
    assert "VAT 20%" in body
    assert "€1.00" in body


def test_the_pdf_downloads_and_carries_the_invoice_number(alice_client, alice_invoice):
    response = alice_client.get(reverse("billing:invoice_pdf", args=[alice_invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert alice_invoice.number in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize(
    "name",
    [
        "billing:invoice_detail",
        "billing:invoice_pdf",
        "billing:invoice_pay",
        "billing:invoice_payment_return",
    ],
)
def test_another_customer_gets_404_on_an_invoice(client, bob, alice_invoice, name):
    from billing.models import Payment

    Payment.objects.create(
        invoice=alice_invoice,
        attempt=1,
        amount=600,
        currency="EUR",
        stripe_payment_intent_id="pi_Alice",
    )
    client.force_login(bob)
    url = reverse(name, args=[alice_invoice.pk])
    if name in {"billing:invoice_pay", "billing:invoice_payment_return"}:
        response = client.post(url, {"payment_intent": "pi_Alice", "payment_method": "1"})
    else:
        response = client.get(url)
    assert response.status_code == 404


def test_the_owner_cannot_point_the_payment_return_at_another_invoices_intent(
    alice_client, alice, alice_invoice, plan
):
    from billing.models import Payment
    from billing.services.orders import CartLine, order_place

    other = order_place(
        user=alice, lines=[CartLine(product_id=plan.pk, cycle="monthly")], currency="EUR"
    ).invoices.get()
    Payment.objects.create(
        invoice=other, attempt=1, amount=600, currency="EUR", stripe_payment_intent_id="pi_Other"
    )
    response = alice_client.post(
        reverse("billing:invoice_payment_return", args=[alice_invoice.pk]),
        {"payment_intent": "pi_Other"},
    )
    assert response.status_code == 404


def test_a_payment_return_without_a_reference_is_a_400(alice_client, alice_invoice):
    response = alice_client.post(
        reverse("billing:invoice_payment_return", args=[alice_invoice.pk]), {}
    )
    assert response.status_code == 400


def test_another_customer_sees_none_of_alices_services_or_invoices(client, bob, alice_invoice):
    client.force_login(bob)
    assert alice_invoice.number not in client.get(reverse("billing:invoices")).content.decode()
    assert "Starter hosting" not in client.get(reverse("billing:services")).content.decode()


def test_staff_see_customer_invoices_in_the_admin_only(client, charlie, alice_invoice):
    client.force_login(charlie)
    assert client.get(reverse("billing:invoice_detail", args=[alice_invoice.pk])).status_code == 404
    admin = client.get(reverse("admin:billing_invoice_change", args=[alice_invoice.pk]))
    assert admin.status_code == 200
    assert alice_invoice.number in admin.content.decode()


@pytest.mark.parametrize("name", ["billing:services", "billing:invoices"])
def test_client_area_pages_need_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def _many_invoices(user, plan, count):
    for _ in range(count):
        order_place(
            user=user,
            lines=[CartLine(product_id=plan.pk, cycle="monthly")],
            currency="EUR",
        )


def test_the_invoice_list_query_count_does_not_grow_with_rows(
    alice_client, alice, plan, django_assert_num_queries
):
    _many_invoices(alice, plan, 3)
    alice_client.get(reverse("billing:invoices"))  # warm the session cache
    # the page, which carries the count (the session and the customer come from the cache)
    with django_assert_num_queries(1) as few:
        alice_client.get(reverse("billing:invoices"))
    _many_invoices(alice, plan, 60)
    with django_assert_num_queries(len(few.captured_queries)):
        response = alice_client.get(reverse("billing:invoices"))
    assert "Page 1 of 2" in response.content.decode()
    assert Invoice.objects.filter(user=alice).count() == 63


def test_the_services_list_query_count_does_not_grow_with_rows(
    alice_client, alice, plan, django_assert_num_queries
):
    _many_invoices(alice, plan, 2)
    alice_client.get(reverse("billing:services"))
    # services (the session and the customer come from the cache)
    with django_assert_num_queries(1) as few:
        alice_client.get(reverse("billing:services"))
    _many_invoices(alice, plan, 20)
    with django_assert_num_queries(len(few.captured_queries)):
        alice_client.get(reverse("billing:services"))


def test_the_pdf_prints_the_same_document_as_the_page(alice_client, alice_invoice, monkeypatch):
    import re

    from billing import pdf
    from billing.views import invoices as views

    printed = {}
    real = pdf.html_to_pdf

    def capture(html: str) -> bytes:
        printed["html"] = html
        return real(html)

    monkeypatch.setattr(views, "html_to_pdf", capture)
    alice_client.get(reverse("billing:invoice_pdf", args=[alice_invoice.pk]))
    page = alice_client.get(reverse("billing:invoice_detail", args=[alice_invoice.pk]))

    def document(html: str) -> str:
        return re.search(r"<article class=\"invoice\".*?</article>", html, re.S).group(0)

    assert document(printed["html"]) == document(page.content.decode())


def test_the_payment_methods_list_query_count_does_not_grow_with_rows(
    alice_client, alice, django_assert_num_queries
):
    from tests.factories import PaymentMethodFactory

    PaymentMethodFactory(user=alice)
    alice_client.get(reverse("billing:payment_methods"))
    # cards (the session and the customer come from the cache)
    with django_assert_num_queries(1):
        alice_client.get(reverse("billing:payment_methods"))
    PaymentMethodFactory.create_batch(5, user=alice, is_default=False)
    with django_assert_num_queries(1):
        body = alice_client.get(reverse("billing:payment_methods")).content.decode()
    assert body.count("Remove card ending 4242") == 6


def test_the_catalogue_and_cart_query_counts_do_not_grow_with_rows(
    client, plan, django_assert_num_queries
):
    from tests.factories import PriceFactory, ProductFactory

    client.post(reverse("billing:cart_add"), {"product": plan.pk, "cycle": "monthly"})
    client.get(reverse("billing:plans"))
    with django_assert_num_queries(0):  # the catalogue is kept in memory (billing.catalogue)
        client.get(reverse("billing:plans"))
    with django_assert_num_queries(2):  # prices of the cart's lines, add-ons among them
        client.get(reverse("billing:cart"))
    for _ in range(5):
        product = ProductFactory()
        PriceFactory(product=product)
        client.post(reverse("billing:cart_add"), {"product": product.pk, "cycle": "monthly"})
    with django_assert_num_queries(3):  # changed: products, their prices, add-ons' plans
        client.get(reverse("billing:plans"))
    with django_assert_num_queries(0):
        client.get(reverse("billing:plans"))
    with django_assert_num_queries(2):
        body = client.get(reverse("billing:cart")).content.decode()
    assert body.count("Remove ") == 6


def test_each_card_button_says_which_card_it_acts_on(alice_client, alice):
    import re

    from tests.factories import PaymentMethodFactory

    PaymentMethodFactory(user=alice, last4="4242", is_default=True)
    PaymentMethodFactory(user=alice, last4="5556", is_default=False)
    PaymentMethodFactory(user=alice, last4="1117", is_default=False)
    body = alice_client.get(reverse("billing:payment_methods")).content.decode()
    names = [
        re.sub(r"<[^>]+>", "", button).strip()
        for button in re.findall(r"<button[^>]*>(.*?)</button>", body, re.S)
    ]
    cards = [name for name in names if "card" in name]
    assert len(cards) == len(set(cards)) == 5  # two "make default", three "remove"
    assert not [name for name in names if name == "Make default"]
    assert "Make default: card ending 5556" in names


def test_paying_while_stripe_cannot_be_reached_says_so_instead_of_failing(
    alice_client, alice_invoice, settings
):
    """The Stripe customer is made on first need; that call can fail too."""
    from tests.factories import PaymentMethodFactory

    settings.STRIPE_SECRET_KEY = ""
    card = PaymentMethodFactory(user=alice_invoice.user)
    response = alice_client.post(
        reverse("billing:invoice_pay", args=[alice_invoice.pk]),
        {"payment_method": card.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "Card payments are not available" in response.content.decode()
    alice_invoice.refresh_from_db()
    assert alice_invoice.status == "unpaid"
