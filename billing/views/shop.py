"""The shop: plans and prices, the currency choice, the cart and checkout."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.exceptions import ApplicationError
from core.redirects import redirect_to_next
from verification.risk import visitor_from_request
from verification.services import order_risk_record

from .. import selectors
from ..cart import cart_add, cart_clear, cart_has_domain, cart_lines, cart_remove, cart_token
from ..currency import display_currency, remember_currency
from ..forms import AddToCartForm, CheckoutForm, CurrencyForm
from ..models import BillingCycle, InvoiceStatus, ProductKind
from ..services import customers, orders


def _visitor_country(request: HttpRequest) -> str:
    """The customer's own country, or where a trusted proxy (Cloudflare) or GeoLite2
    places the visitor; "" when unknown (the pages then say tax comes at checkout)."""
    if isinstance(request.user, User):
        return str(request.user.country or "")
    return visitor_from_request(request).country


@require_GET
def plans(request: HttpRequest) -> HttpResponse:
    currency = display_currency(request)
    cycle = request.GET.get("cycle", "")
    if cycle not in BillingCycle.values:
        cycle = BillingCycle.MONTHLY
    user = request.user
    country = _visitor_country(request)
    lines = cart_lines(request)
    held = selectors.services_held(user=user)
    pricing = selectors.pricing_page(
        currency=currency,
        cycle=cycle,
        country=country,
        in_cart={line.product_id for line in lines},
        owned={product for product, kind in held if kind == ProductKind.PLAN},
    )
    return render(
        request,
        "billing/plans.html",
        {
            "pricing": pricing,
            "cycles": BillingCycle.choices,
            "recommended": selectors.recommended_for(user=user, owned=held, currency=currency),
            "currency": currency,
            "currency_form": CurrencyForm(initial={"currency": currency}),
            "cart_size": len(lines),
        },
    )


@require_POST
def currency_set(request: HttpRequest) -> HttpResponse:
    form = CurrencyForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Unknown currency.", status=400, content_type="text/plain")
    response = redirect_to_next(request, request.POST.get("next"), "billing:plans")
    remember_currency(request, response, form.cleaned_data["currency"])
    return response


@require_POST
def cart_add_view(request: HttpRequest) -> HttpResponse:
    """A product, with the add-ons ticked on its card, into the cart; an add-on on its own
    only when its plan is in the cart or the customer has it (a form's message, never
    a 500, and nothing added, when it is not). A plan that needs a domain is asked for
    it again, with the reason, when the one given does not do (400)."""
    form = AddToCartForm(request.POST, in_cart=lambda domain: cart_has_domain(request, domain))
    if not form.is_valid():
        if "domain" in form.errors and form.cleaned_data.get("product"):
            return render(
                request,
                "billing/cart_domain.html",
                {"form": form, "product": form.cleaned_data["product"]},
                status=400,
            )
        reasons = [str(reason) for reason in form.non_field_errors()]
        messages.error(
            request, reasons[0] if reasons else "That product or billing cycle is not available."
        )
        return redirect("billing:plans")
    product, cycle = form.cleaned_data["product"], form.cleaned_data["cycle"]
    new = [
        orders.CartLine(product_id=product.pk, cycle=cycle, domain=form.cleaned_data["domain"])
    ] + [orders.CartLine(product_id=addon.pk, cycle=cycle) for addon in form.cleaned_data["addons"]]
    problems = orders.addons_without_plan(
        lines=[*cart_lines(request), *new], owned=orders.plans_owned(user=request.user)
    )
    if product.pk in problems:
        messages.error(request, problems[product.pk].message)
        return redirect("billing:plans")
    if not cart_add(request, new):
        messages.error(request, "Your cart is full. Check out or remove something first.")
    else:
        names = [product.name, *(addon.name for addon in form.cleaned_data["addons"])]
        messages.success(
            request, f"{' and '.join(names)} {'is' if len(names) == 1 else 'are'} in your cart."
        )
    return redirect("billing:cart")


@require_POST
def cart_remove_view(request: HttpRequest, index: int) -> HttpResponse:
    for removed in cart_remove(request, index, owned=orders.plans_owned(user=request.user)):
        messages.warning(request, removed)
    return redirect("billing:cart")


def cart(request: HttpRequest) -> HttpResponse:
    return _cart_page(request)


def _cart_page(
    request: HttpRequest, checkout_form: CheckoutForm | None = None, status: int = 200
) -> HttpResponse:
    currency = display_currency(request)
    lines = cart_lines(request)
    priced, total = selectors.priced_cart(lines=lines, currency=currency)
    alone = orders.addons_without_plan(lines=lines, owned=orders.plans_owned(user=request.user))
    vat_number = ""
    if request.user.is_authenticated:
        vat_number = customers.billing_account_for(user=request.user).vat_number
    if checkout_form is None:
        checkout_form = CheckoutForm(
            initial={"vat_number": vat_number} if vat_number else {},
            country=getattr(request.user, "country", ""),
        )
    return render(
        request,
        "billing/cart.html",
        {
            "lines": priced,
            "unpriced": len(lines) - len(priced),
            "addons_alone": [problem.message for problem in alone.values()],
            "total": total,
            "tax": selectors.cart_tax(
                subtotal=total, country=_visitor_country(request), vat_number=vat_number
            ),
            "currency": currency,
            "currency_form": CurrencyForm(initial={"currency": currency}),
            "checkout_form": checkout_form,
        },
        status=status,
    )


@login_required
@require_POST
def checkout(request: AuthenticatedRequest) -> HttpResponse:
    form = CheckoutForm(request.POST, country=request.user.country)
    if not form.is_valid():
        # The cart again, with the error next to the field it is about.
        return _cart_page(request, checkout_form=form, status=400)
    customers.billing_account_update(user=request.user, vat_number=form.cleaned_data["vat_number"])
    try:
        order = orders.order_place(
            user=request.user,
            lines=cart_lines(request),
            currency=display_currency(request),
            checkout_token=cart_token(request),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:cart")
    cart_clear(request)
    order_risk_record(user=request.user, order_id=order.pk, visitor=visitor_from_request(request))
    invoice = order.invoices.get()
    if invoice.status == InvoiceStatus.PAID:
        messages.success(request, "Thank you: your order is active.")
    else:
        messages.success(
            request, f"Thank you: order placed. Invoice {invoice.number} is ready to pay."
        )
    return redirect("billing:invoice_detail", pk=invoice.pk)
