from __future__ import annotations

import logging

from allauth.account.adapter import get_adapter as get_account_adapter
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthenticatedRequest
from core.links import absolute_url

from . import sms
from .forms import PreferencesForm, TwilioInboundForm, TwilioStatusForm, form_errors_text
from .models import ConsentChannel, Purpose
from .selectors import consent_records_for, preferences_get
from .services import preferences_update
from .sms_callbacks import sms_reply_receive, sms_status_receive
from .tokens import read_unsubscribe_token

CONSENT_HISTORY_LIMIT = 20

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The customer's address, read as allauth reads it for sessions and rate limits
    (so ALLAUTH_TRUSTED_PROXY_COUNT behind a proxy applies here too)."""
    try:
        ip: str | None = get_account_adapter(request).get_client_ip(request)
        return ip
    except PermissionDenied:
        return None


@login_required
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    current = preferences_get(user=request.user)
    initial = {purpose: getattr(current, purpose) for purpose in Purpose.values}
    # An all-unticked form posts no fields at all: bind on the method, not on the data.
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        records = preferences_update(
            user=request.user,
            choices={purpose: form.cleaned_data[purpose] for purpose in Purpose.values},
            channel=ConsentChannel.PREFERENCES_PAGE,
            ip_address=client_ip(request),
        )
        messages.success(
            request,
            "Your notification choices have been saved." if records else "Nothing changed.",
        )
        return redirect("notifications:preferences")
    history = consent_records_for(user=request.user)[:CONSENT_HISTORY_LIMIT]
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "history": history, "has_phone": bool(request.user.phone)},
    )


# The mail client's RFC 8058 one-click POST carries no session and no CSRF
# token, so this one endpoint is exempt. The signed token in the URL is the
# authority, and the only thing it can do is withdraw one consent of its own
# customer, so a forged cross-site request cannot harm anyone.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    found = read_unsubscribe_token(token)
    if found is None:
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    user = get_user_model().objects.filter(pk=found.user_id).first()
    if user is None:
        return render(request, "notifications/unsubscribe_invalid.html", status=404)
    purpose_label = Purpose(found.purpose).label
    if request.method == "GET":
        # Link scanners and prefetchers follow GET links: a GET never unsubscribes.
        return render(
            request,
            "notifications/unsubscribe_confirm.html",
            {"purpose_label": purpose_label, "email": user.email},
        )
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    preferences_update(
        user=user,
        choices={found.purpose: False},
        channel=ConsentChannel.ONE_CLICK if one_click else ConsentChannel.UNSUBSCRIBE_LINK,
        ip_address=client_ip(request),
    )
    return render(
        request,
        "notifications/unsubscribe_done.html",
        {"purpose_label": purpose_label, "email": user.email},
    )


def _refuse_twilio_callback(name: str, form: TwilioStatusForm | TwilioInboundForm) -> HttpResponse:
    reason = form_errors_text(form)
    logger.warning("Signed Twilio %s callback refused: %s", name, reason)
    return HttpResponse(reason, status=400, content_type="text/plain")


def twilio_request_is_signed(request: HttpRequest) -> bool:
    # Twilio signs the URL it called, which is the public one in SITE_URL.
    url = absolute_url(request.get_full_path())
    return sms.twilio_signature_valid(
        url=url,
        params=request.POST.dict(),
        signature=request.headers.get("X-Twilio-Signature", ""),
    )


# Twilio posts without a CSRF token; X-Twilio-Signature authenticates instead.
@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not twilio_request_is_signed(request):
        return HttpResponseForbidden("Invalid X-Twilio-Signature.")
    form = TwilioStatusForm(request.POST)
    if not form.is_valid():
        return _refuse_twilio_callback("status", form)
    sms_status_receive(
        message_sid=form.cleaned_data["MessageSid"],
        status=form.cleaned_data["MessageStatus"],
        error_code=form.cleaned_data["ErrorCode"],
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not twilio_request_is_signed(request):
        return HttpResponseForbidden("Invalid X-Twilio-Signature.")
    form = TwilioInboundForm(request.POST)
    if not form.is_valid():
        return _refuse_twilio_callback("inbound", form)
    sms_reply_receive(
        message_sid=form.cleaned_data["MessageSid"],
        phone=form.cleaned_data["From"],
        body=form.cleaned_data["Body"],
    )
    # Twilio's Advanced Opt-Out answers STOP/START itself: no reply of ours.
    return HttpResponse("<Response></Response>", content_type="text/xml")
