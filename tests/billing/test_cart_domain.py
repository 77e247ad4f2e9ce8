"""Hosting that needs a domain asks for it in the cart: checked (syntax, IDNA, not hosted
by a live service here), kept on the service, shown on its page and sent to the panel."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from billing.cart import cart_lines
from billing.models import Invoice, Service, ServiceStatus
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from tests.factories import PriceFactory, ProductFactory


@pytest.fixture
def web_hosting(hosted_plan):
    hosted_plan.requires_domain = True
    hosted_plan.save(update_fields=["requires_domain"])
    return hosted_plan


def add(client, product, domain=None):
    data = {"product": product.pk, "cycle": "monthly"}
    if domain is not None:
        data["domain"] = domain
    return client.post(reverse("billing:cart_add"), data)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_pricing_card_asks_for_a_domain_only_where_the_product_needs_one(client, web_hosting):
    other = ProductFactory(name="Backup add-on", slug="backup")
    PriceFactory(product=other, currency="EUR", cycle="monthly", amount=200)
    body = client.get(reverse("billing:plans")).content.decode()
    assert f'id="domain-{web_hosting.pk}"' in body and 'name="domain"' in body
    assert f'id="domain-{other.pk}"' not in body


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Enter the domain for this plan"),
        ("https://example.com/", "Enter the domain only"),
        ("example.com:8080", "Enter the domain only"),
        ("localhost", "is not a valid domain name"),
        ("-bad-.example", "is not a valid domain name"),
        ("exa_mple.com", "is not a valid domain name"),
        ("10.0.0.1", "is not a valid domain name"),
        ("a" * 64 + ".com", "is not a valid domain name"),
        ("xn--zz.example", "is not a valid domain name"),  # a broken A-label
        ("☃.example", "is not a valid domain name"),  # a symbol IDNA 2008 forbids
        ("shop.hosting.example.net", "are ours"),  # PROVISIONING_DEFAULT_DOMAIN's
    ],
)
def test_a_bad_domain_is_a_form_error_and_nothing_enters_the_cart(
    client, web_hosting, settings, typed, error
):
    settings.PROVISIONING_DEFAULT_DOMAIN = "hosting.example.net"
    response = add(client, web_hosting, typed)
    assert response.status_code == 400
    assert 'class="field field--error"' in response.content.decode()
    assert error in page_text(response)
    assert cart_lines(response.wsgi_request) == []


def test_an_international_domain_is_kept_as_its_a_label_and_shown_in_unicode(client, web_hosting):
    response = add(client, web_hosting, " Bücher.Example. ")
    assert response.status_code == 302
    [line] = cart_lines(response.wsgi_request)
    assert line.domain == "xn--bcher-kva.example"
    assert "for bücher.example" in page_text(client.get(reverse("billing:cart")))


def test_a_domain_a_live_service_has_is_refused_one_that_ended_is_free_again(
    client, bob, web_hosting
):
    from billing.models import Order

    order = Order.objects.create(user=bob, currency="EUR")
    taken = Service.objects.create(
        user=bob,
        order=order,
        product=web_hosting,
        cycle="monthly",
        currency="EUR",
        amount=1000,
        domain="taken.example",
        status=ServiceStatus.SUSPENDED,
    )
    response = add(client, web_hosting, "TAKEN.example")
    assert response.status_code == 400
    assert "taken.example is already hosted here" in page_text(response)

    Service.objects.filter(pk=taken.pk).update(status=ServiceStatus.TERMINATED)
    assert add(client, web_hosting, "taken.example").status_code == 302


def test_the_same_domain_twice_in_one_cart_is_refused(client, web_hosting):
    assert add(client, web_hosting, "mine.example").status_code == 302
    response = add(client, web_hosting, "mine.example")
    assert response.status_code == 400
    assert "mine.example is in your cart already" in page_text(response)


def test_a_product_without_a_domain_ignores_one_sent_anyway(client, plan):
    assert add(client, plan, "whatever.example").status_code == 302
    assert cart_lines(client.get(reverse("billing:cart")).wsgi_request)[0].domain == ""


def test_the_domain_goes_to_the_service_its_page_and_the_panel(
    alice_client, alice, web_hosting, fake_panel, django_capture_on_commit_callbacks
):
    add(alice_client, web_hosting, "bücher.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("billing:checkout"), {"vat_number": ""})
    assert response.status_code == 302
    service = Service.objects.get(user=alice)
    assert service.domain == "xn--bcher-kva.example"

    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid_outside_stripe(invoice=Invoice.objects.get(user=alice))
    service.refresh_from_db()
    assert service.status == ServiceStatus.ACTIVE
    # The generic module's signed body carries it, as the account's domain.
    assert fake_panel.accounts[f"service-{service.pk}"]["domain"] == "xn--bcher-kva.example"
    assert service.account.domain == "xn--bcher-kva.example"
    page = page_text(alice_client.get(reverse("billing:service_detail", args=[service.pk])))
    assert '<dd id="service-domain">bücher.example</dd>' in page


def test_checkout_refuses_a_domain_taken_since_it_entered_the_cart(
    alice_client, alice, bob, web_hosting
):
    add(alice_client, web_hosting, "race.example")
    from billing.models import Order

    Service.objects.create(
        user=bob,
        order=Order.objects.create(user=bob, currency="EUR"),
        product=web_hosting,
        cycle="monthly",
        currency="EUR",
        amount=1000,
        domain="race.example",
    )
    response = alice_client.post(reverse("billing:checkout"), {"vat_number": ""}, follow=True)
    assert "race.example is already hosted here" in page_text(response)
    assert not Service.objects.filter(user=alice).exists()
