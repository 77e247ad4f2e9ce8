"""Billing details and saved cards: add (Stripe SetupIntent), make default, remove."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from core.exceptions import ApplicationError
from core.redirects import redirect_to_next, safe_next_path

from .. import gateway, selectors
from ..forms import CheckoutForm, SetupCompleteForm
from ..models import PaymentMethod
from ..services import cards, customers


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
