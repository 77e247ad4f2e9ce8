from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from accounts.models import User
from core.exceptions import ApplicationError
from core.redirects import redirect_to_next, safe_next_path
from provisioning.services import account_password_take, account_sso_url
from verification.risk import visitor_from_request
from verification.services import order_risk_record

from . import gateway, selectors
from .cart import cart_add, cart_clear, cart_has_domain, cart_lines, cart_remove, cart_token
from .currency import display_currency, remember_currency
from .forms import (
    AddToCartForm,
    CancelServiceForm,
    ChangePlanForm,
    CheckoutForm,
    CurrencyForm,
    PayInvoiceForm,
    PaymentReturnForm,
    SetupCompleteForm,
)
from .models import (
    BillingCycle,
    CancelWhen,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    PaymentStatus,
    Service,
    ServiceStatus,
)
from .pdf import html_to_pdf
from .services import cancellations, cards, changes, customers, orders, payments
from .services.changes import change_options

logger = logging.getLogger(__name__)


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
    pricing = selectors.pricing_page(
        currency=currency,
        cycle=cycle,
        country=country,
        in_cart={line.product_id for line in lines},
        owned=orders.plans_owned(user=user),
    )
    return render(
        request,
        "billing/plans.html",
        {
            "pricing": pricing,
            "cycles": BillingCycle.choices,
            "recommended": selectors.recommended_products(user=request.user, currency=currency),
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


@login_required
def service_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "billing/services.html",
        {"services": selectors.customer_services(user=request.user)},
    )


def _service_of(request: AuthenticatedRequest, pk: int) -> Service:
    return get_object_or_404(
        Service.objects.select_related("product", "account__server__group"),
        pk=pk,
        user=request.user,
    )


def _service_page(request: AuthenticatedRequest, service: Service, **extra: object) -> HttpResponse:
    context = selectors.service_page(service=service)
    context.setdefault("cancel_form", CancelServiceForm())
    context.setdefault("change_form", ChangePlanForm(options=change_options(service=service)))
    context.update(extra)
    return render(request, "billing/service_detail.html", context)


@login_required
@require_GET
def service_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _service_page(request, _service_of(request, pk))


@login_required
@require_POST
def service_credentials(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Shows the first password once; it is forgotten as it is shown."""
    service = _service_of(request, pk)
    password = account_password_take(account_id=service.account_id) if service.account_id else ""
    if not password:
        messages.info(request, "The first password was shown already. Reset it in the panel.")
        return redirect("billing:service_detail", pk=service.pk)
    response = _service_page(request, service, password=password)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def service_login(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Single sign-on: a one-time link from the panel, followed at once."""
    service = _service_of(request, pk)
    url = ""
    if service.account_id and service.status == ServiceStatus.ACTIVE:
        try:
            url = account_sso_url(account_id=service.account_id)
        except ApplicationError as exc:  # the panel refused or is down (ModuleError)
            logger.warning("SSO for service %s failed: %s", service.pk, exc.message)
    if not url:
        messages.error(request, "The panel's login is not available right now. Try again soon.")
        return redirect("billing:service_detail", pk=service.pk)
    return redirect(url)


@login_required
@require_POST
def service_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = _service_of(request, pk)
    form = CancelServiceForm(request.POST)
    if not form.is_valid():
        return _service_page(request, service, cancel_form=form)
    try:
        service = cancellations.service_cancel_request(
            service=service,
            when=form.cleaned_data["when"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if service.cancel_when == CancelWhen.IMMEDIATELY:
            messages.success(request, "Cancelled: the account is being removed now.")
        else:
            messages.success(
                request, f"{service.product.name} ends on {service.cancel_at:%-d %b %Y}."
            )
    return redirect("billing:service_detail", pk=service.pk)


@login_required
@require_POST
def service_change(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    service = _service_of(request, pk)
    form = ChangePlanForm(request.POST, options=change_options(service=service))
    if not form.is_valid():
        return _service_page(request, service, change_form=form)
    try:
        change = changes.service_change_request(
            service=service, product=form.cleaned_data["product"], today=timezone.localdate()
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:service_detail", pk=service.pk)
    if change.invoice_id:
        messages.success(
            request, f"Pay this invoice and {change.to_product.name} replaces your plan."
        )
        return redirect("billing:invoice_detail", pk=change.invoice_id)
    messages.success(request, f"Your plan is now {change.to_product.name}.")
    return redirect("billing:service_detail", pk=service.pk)


@login_required
def invoice_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.customer_invoices(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/invoices.html",
        {
            "page": page,
            "invoices": page.object_list,
            "credit_balances": selectors.customer_credit_balances(user=request.user),
        },
    )


@login_required
def credit_page(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.customer_credit_entries(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "billing/credit.html",
        {
            "page": page,
            "entries": page.object_list,
            "balances": selectors.customer_credit_balances(user=request.user),
        },
    )


@login_required
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.customer_orders(user=request.user), 25).get_page(
        request.GET.get("page")
    )
    return render(request, "billing/orders.html", {"page": page, "orders": page.object_list})


@login_required
def order_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(selectors.customer_orders(user=request.user), pk=pk)
    return render(request, "billing/order_detail.html", {"order": order})


def _invoice_page(request: AuthenticatedRequest, invoice: Invoice, **extra: str) -> HttpResponse:
    context = selectors.invoice_document(invoice=invoice)
    cards = list(selectors.customer_cards(user=request.user))
    context.update(
        cards=cards,
        verification_hold=selectors.invoice_verification_hold(invoice=invoice),
        pay_form=PayInvoiceForm(user=request.user),
        stripe_js_url=settings.STRIPE_JS_URL,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        stripe_ready=gateway.is_configured(),
        **extra,
    )
    return render(request, "billing/invoice_detail.html", context)


@login_required
def invoice_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk, user=request.user)
    return _invoice_page(request, invoice)


@login_required
def invoice_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk, user=request.user)
    context = selectors.invoice_document(invoice=invoice)
    html = render_to_string("billing/invoice_pdf.html", context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@login_required
@require_POST
def invoice_pay(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk, user=request.user)
    form = PayInvoiceForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose one of your saved cards.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    try:
        outcome = payments.invoice_pay(
            invoice=invoice,
            payment_method=form.cleaned_data["payment_method"],
            visitor=visitor_from_request(request),
        )
    except payments.VerificationRequired as exc:
        messages.info(request, exc.message)
        return redirect("verification:case", pk=exc.case_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:invoice_detail", pk=invoice.pk)
    if outcome.client_secret:
        # The bank wants the customer to authenticate: the page does it with Stripe.js.
        return _invoice_page(request, invoice, action_client_secret=outcome.client_secret)
    if outcome.payment.status == PaymentStatus.FAILED:
        messages.error(request, outcome.payment.failure_message)
    elif outcome.payment.status == PaymentStatus.SUCCEEDED:
        messages.success(request, f"Thank you: invoice {invoice.number} is paid.")
    else:
        messages.info(request, "Your payment is being processed.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@login_required
@require_POST
def invoice_payment_return(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """After Stripe.js finished authentication: read the intent's state from Stripe."""
    invoice = get_object_or_404(Invoice, pk=pk, user=request.user)
    form = PaymentReturnForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Missing payment reference.", status=400, content_type="text/plain")
    payment = get_object_or_404(
        invoice.payments, stripe_payment_intent_id=form.cleaned_data["payment_intent"]
    )
    try:
        payment = payments.payment_refresh(payment=payment)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:invoice_detail", pk=invoice.pk)
    if payment.status == PaymentStatus.SUCCEEDED:
        messages.success(request, f"Thank you: invoice {invoice.number} is paid.")
    elif payment.status == PaymentStatus.FAILED:
        messages.error(request, payment.failure_message)
    else:
        messages.info(request, "Your bank has not confirmed the payment yet.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


@login_required
def billing_details(request: AuthenticatedRequest) -> HttpResponse:
    account = customers.billing_account_for(user=request.user)
    form = CheckoutForm(
        request.POST or None,
        initial={"vat_number": account.vat_number},
        country=request.user.country,
    )
    if request.method == "POST" and form.is_valid():
        customers.billing_account_update(
            user=request.user, vat_number=form.cleaned_data["vat_number"]
        )
        messages.success(request, "Your billing details are saved; new invoices will use them.")
        return redirect("billing:details")
    return render(request, "billing/details.html", {"form": form})


@login_required
def payment_methods(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "billing/payment_methods.html",
        {"cards": selectors.customer_cards(user=request.user)},
    )


@login_required
@require_GET
def card_add(request: AuthenticatedRequest) -> HttpResponse:
    """The Card Element form. Side-effect free: the SetupIntent (and the Stripe customer on
    first need) is made by card_setup_intent, which the page's script POSTs to."""
    if not gateway.is_configured():
        messages.error(request, "Card payments are not available: Stripe is not configured.")
        return redirect("billing:payment_methods")
    return render(
        request,
        "billing/card_add.html",
        {
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "next": safe_next_path(request, request.GET.get("next")),
        },
    )


@login_required
@require_POST
def card_setup_intent(request: AuthenticatedRequest) -> JsonResponse:
    """A SetupIntent for the signed-in customer; its client_secret goes to Stripe.js only."""
    try:
        intent = cards.card_setup_begin(user=request.user)
    except ApplicationError as exc:
        return JsonResponse({"error": exc.message}, status=502)
    return JsonResponse({"client_secret": intent.client_secret})


@login_required
@require_POST
def card_setup_complete(request: AuthenticatedRequest) -> HttpResponse:
    form = SetupCompleteForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Missing card setup reference.", status=400, content_type="text/plain")
    try:
        card = cards.card_setup_complete(
            user=request.user, setup_intent_id=form.cleaned_data["setup_intent"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:payment_methods")
    messages.success(request, f"{card} is saved.")
    return redirect_to_next(request, request.POST.get("next"), "billing:payment_methods")


@login_required
@require_POST
def card_make_default(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(PaymentMethod, pk=pk, user=request.user)
    try:
        cards.card_set_default(user=request.user, payment_method=card)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{card} will be charged for renewals.")
    return redirect("billing:payment_methods")


@login_required
@require_POST
def card_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    card = get_object_or_404(PaymentMethod, pk=pk, user=request.user)
    try:
        cards.card_remove(user=request.user, payment_method=card)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{card} is removed.")
    return redirect("billing:payment_methods")
