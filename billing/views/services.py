"""The customer's services: list, detail, credentials, panel sign-in, cancel, change."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from core.exceptions import ApplicationError
from provisioning.services import account_password_take, account_sso_url

from .. import selectors, tables
from ..forms import CancelServiceForm, ChangePlanForm
from ..models import CancelWhen, Service, ServiceStatus
from ..services import cancellations, changes
from ..services.changes import change_options

logger = logging.getLogger(__name__)


@login_required
def service_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "billing/services.html",
        {
            "service_rows": tables.service_rows(
                selectors.customer_services(user=request.user).values(*tables.SERVICE_COLUMNS)
            )
        },
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
