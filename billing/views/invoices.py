"""The customer's invoices (page, PDF, paying), credit and orders."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from core.exceptions import ApplicationError
from core.paging import page_of
from verification.risk import visitor_from_request

from .. import documents, gateway, selectors, tables
from ..forms import PayInvoiceForm, PaymentReturnForm
from ..models import Invoice, PaymentStatus
from ..pdf import html_to_pdf
from ..services import payments


@login_required
def invoice_list(request: AuthenticatedRequest) -> HttpResponse:
    page = page_of(tables.customer_invoice_rows(user=request.user), request.GET.get("page"), 50)
    return render(
        request,
        "billing/invoices.html",
        {
            "page": page,
            "invoice_rows": tables.invoice_rows(page.object_list),
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


def _invoice_page(request: AuthenticatedRequest, pk: int, **extra: str) -> HttpResponse:
    invoice = get_object_or_404(documents.customer_invoice_pages(user=request.user), pk=pk)
    context = documents.invoice_document(invoice=invoice)
    context.update(
        # Read only if the page offers the saved cards (payable, Stripe configured).
        cards=selectors.customer_cards(user=request.user),
        pay_form=PayInvoiceForm(user=request.user),
        stripe_js_url=settings.STRIPE_JS_URL,
        stripe_publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        stripe_ready=gateway.is_configured(),
        **extra,
    )
    return render(request, "billing/invoice_detail.html", context)


@login_required
def invoice_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _invoice_page(request, pk)


@login_required
def invoice_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk, user=request.user)
    context = documents.invoice_document(invoice=invoice)
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
        return _invoice_page(request, invoice.pk, action_client_secret=outcome.client_secret)
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
