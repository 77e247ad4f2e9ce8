from __future__ import annotations

import dataclasses
import hashlib

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from core.consent import (
    ADVERTISING,
    OPTIONAL_GROUPS,
    PERFORMANCE,
    ConsentRequest,
    consent_state,
)
from core.exceptions import ApplicationError
from core.redirects import redirect_to_next
from support import selectors as support_selectors

from . import consent, data_requests, notice, selectors, services
from .client import client_ip
from .forms import (
    AcknowledgeForm,
    ConsentForm,
    ErasureConfirmForm,
    TimingBeaconForm,
    VisitBeaconForm,
    WithdrawForm,
)
from .models import DataRequest, DocumentAcceptance, LegalDocument
from .rendering import render_markdown

LEDGER_ROWS = 50
MAX_VERSION = 2**31 - 1  # the database column's ceiling


def _safe_next(request: HttpRequest, candidate: str | None) -> HttpResponseRedirect:
    """A redirect to `candidate` when it is a path on this site, else to the cookie page."""
    return redirect_to_next(request, candidate, "privacy:cookies")


def _cookies_page(request: HttpRequest, form: ConsentForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "privacy/cookies.html",
        {
            "declaration": selectors.cookie_declaration(),
            "form": form,
            "state": consent_state(request),
            "groups": OPTIONAL_GROUPS,
        },
        status=status,
    )


@require_GET
def cookies(request: HttpRequest) -> HttpResponse:
    """The cookie declaration and the per-group choice (works without JavaScript)."""
    state = consent_state(request)
    return _cookies_page(
        request, ConsentForm(initial={g: state.allows(g) for g in OPTIONAL_GROUPS})
    )


@require_POST
def consent_save(request: ConsentRequest) -> HttpResponse:
    """Records Accept all, Reject all or a per-group choice, and remembers it in the browser."""
    if _limit_reached(request, "choice", CHOICES_PER_MINUTE):
        return HttpResponse("Too many cookie choices; try again in a minute.", status=429)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _cookies_page(request, form, status=400)
    previous = consent_state(request)
    visitor_id = previous.visitor_id or consent.new_visitor_id()
    accepted = form.accepted()
    services.consent_record(
        visitor_id=visitor_id,
        user=request.user if request.user.is_authenticated else None,
        action=form.cleaned_data["choice"],
        accepted=accepted,
        ip=client_ip(request),
    )
    at = consent.now_ms()
    state = dataclasses.replace(
        previous, chosen=True, accepted=accepted, visitor_id=visitor_id, chosen_at=at
    )
    request.consent = state
    response = _safe_next(request, form.cleaned_data["next"])
    consent.write(response, state=state, version=selectors.declaration_version(), at=at)
    messages.success(request, "Your cookie choices are saved.")
    return response


def _document_page(request: HttpRequest, kind: str, version: int | None) -> HttpResponse:
    if version is None:
        current = selectors.current_documents()
        document = current.privacy if kind == LegalDocument.Kind.PRIVACY else current.terms
        if document is None:
            raise Http404("No version has been published yet.")
    else:
        if version > MAX_VERSION:
            raise Http404("No such version.")
        document = get_object_or_404(
            LegalDocument, kind=kind, version=version, published_at__isnull=False
        )
    versions = list(
        selectors.document_versions(kind=kind).only(
            "kind", "version", "published_at", "effective_date", "change_summary"
        )
    )
    return render(
        request,
        "privacy/document.html",
        {
            "document": document,
            "body": render_markdown(document.body),
            "versions": versions,
            "is_current": bool(versions) and versions[0].pk == document.pk,
        },
    )


@require_GET
def privacy_policy(request: HttpRequest, version: int | None = None) -> HttpResponse:
    return _document_page(request, LegalDocument.Kind.PRIVACY, version)


@require_GET
def terms(request: HttpRequest, version: int | None = None) -> HttpResponse:
    return _document_page(request, LegalDocument.Kind.TERMS, version)


@login_required
@require_GET
def index(request: AuthenticatedRequest) -> HttpResponse:
    """Account > Privacy: this browser's choice, the customer's ledger and acceptances."""
    ledger = list(selectors.consent_ledger(user=request.user)[:LEDGER_ROWS])
    state = consent_state(request)
    # What can be withdrawn: this browser's consent and the customer's latest choice
    # made in any other browser while signed in.
    latest = ledger[0].answers if ledger else {}
    withdrawable = [g for g in OPTIONAL_GROUPS if g in state.accepted or latest.get(g)]
    return render(
        request,
        "privacy/index.html",
        {
            "state": state,
            "withdrawable": withdrawable,
            "groups": OPTIONAL_GROUPS,
            "ledger": ledger,
            "acceptances": list(selectors.document_acceptances(user=request.user)),
            "data_requests": list(selectors.data_requests(user=request.user)[:LEDGER_ROWS]),
            "export_days": settings.PRIVACY_EXPORT_DAYS,
            "grace_days": settings.PRIVACY_ERASURE_GRACE_DAYS,
            "ticket_requests": list(
                support_selectors.customer_privacy_requests(user=request.user)[:LEDGER_ROWS]
            ),
            "ticket_kinds": [
                ("correct", "Correct my information"),
                ("update", "Update my information"),
                ("restrict", "Restrict processing"),
                ("object", "Object to processing"),
            ],
        },
    )


@login_required
@require_POST
def export_request(request: AuthenticatedRequest) -> HttpResponse:
    """Account > Privacy > Export: a worker builds the zip and emails the link."""
    data_requests.export_request(user=request.user)
    messages.success(
        request,
        "We are preparing your export. We will email you a link when it is ready;"
        " it usually takes a few minutes.",
    )
    return redirect("privacy:index")


@login_required
@require_GET
def export_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The emailed link: the owner only, signed in, until the file expires."""
    data_request = get_object_or_404(
        DataRequest,
        pk=pk,
        user=request.user,
        kind=DataRequest.Kind.EXPORT,
        status=DataRequest.Status.READY,
        expires_at__gt=timezone.now(),
    )
    return FileResponse(
        storages["privacy"].open(data_request.file_name, "rb"),
        as_attachment=True,
        filename=f"onepanel-export-{data_request.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )


@login_required
@require_POST
def withdraw(request: AuthenticatedRequest) -> HttpResponse:
    """One click: the group is off from this response on, here and in other browsers."""
    if _limit_reached(request, "choice", CHOICES_PER_MINUTE):
        return HttpResponse("Too many cookie choices; try again in a minute.", status=429)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose a cookie group to withdraw.", status=400)
    previous = consent_state(request)
    visitor_id = previous.visitor_id or consent.new_visitor_id()
    _, remaining = services.consent_withdraw(
        user=request.user,
        visitor_id=visitor_id,
        accepted=previous.accepted,
        groups=form.groups(),
        ip=client_ip(request),
    )
    # What is left of the consent keeps its age: withdrawing one group does not renew the
    # others for another twelve months.
    at = previous.chosen_at if previous.chosen else consent.now_ms()
    state = dataclasses.replace(
        previous, chosen=True, accepted=remaining, visitor_id=visitor_id, chosen_at=at
    )
    request.consent = state
    response = redirect("privacy:index")
    consent.write(response, state=state, version=selectors.declaration_version(), at=at)
    messages.success(request, "Your consent is withdrawn. It applies at once.")
    return response


@login_required
@require_POST
def acknowledge(request: AuthenticatedRequest) -> HttpResponse:
    """Accepts the new versions shown in the notice."""
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Say which versions you accept.", status=400)
    documents = list(
        LegalDocument.objects.filter(
            pk__in=form.cleaned_data["documents"], published_at__isnull=False
        )
    )
    if not documents:
        return HttpResponse("Those versions are not published.", status=400)
    ip = client_ip(request)
    for document in documents:
        services.document_accept(
            user=request.user, document=document, source=DocumentAcceptance.Source.NOTICE, ip=ip
        )
    notice.refresh(request, request.user)
    messages.success(request, "Thank you: your acceptance is recorded.")
    return _safe_next(request, request.POST.get("next"))


@login_required
@require_GET
def security(request: AuthenticatedRequest) -> HttpResponse:
    """Account > Security: the technical data kept for each signed-in session."""
    records = list(selectors.session_records(user=request.user))
    live = {
        services.hash_session_key(key)
        for key in UserSession.objects.filter(user=request.user).values_list(
            "session_key", flat=True
        )
    }
    current = services.hash_session_key(request.session.session_key or "")
    return render(
        request,
        "privacy/security.html",
        {
            "records": records,
            "live": live,
            "current": current,
            "retention_days": settings.PRIVACY_TECHNICAL_DATA_DAYS,
        },
    )


BEACONS_PER_MINUTE = 120
MAX_BEACON_BYTES = 4096
CHOICES_PER_MINUTE = 60  # generous: an office behind one NAT address chooses too


def beacon_limit_reached(request: HttpRequest) -> bool:
    return _limit_reached(request, "beacon", BEACONS_PER_MINUTE)


def _limit_reached(request: HttpRequest, scope: str, per_minute: int) -> bool:
    """A per-address ceiling so nobody can flood the privacy tables; the address is
    kept (hashed) in the cache for a minute only, never stored."""
    ip = client_ip(request) or "unknown"
    key = f"privacy:{scope}:" + hashlib.sha256(ip.encode()).hexdigest()[:24]
    cache.add(key, 0, 60)
    try:
        return cache.incr(key) > per_minute
    except ValueError:  # expired between add and incr
        return False


@csrf_exempt  # sendBeacon; without the SameSite=Lax consent cookie nothing is stored
@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    """First-party measurements, stored only with the matching consent."""
    # A measurement is a few hundred bytes. Refuse more before Django parses the body: this
    # view needs no CSRF token and no account, and file parts of a multipart body would
    # otherwise be spooled to disk whatever DATA_UPLOAD_MAX_MEMORY_SIZE says.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = MAX_BEACON_BYTES + 1
    if length > MAX_BEACON_BYTES:
        return HttpResponse("A measurement is at most 4 KB.", status=413)
    if beacon_limit_reached(request):
        return HttpResponse("Too many measurements; try again in a minute.", status=429)
    state = consent_state(request)
    kind = request.POST.get("kind")
    if kind == "timing":
        if not state.allows(PERFORMANCE):
            return HttpResponse("No performance consent.", status=403)
        if not consent.measurement_allowed(request, PERFORMANCE):
            return HttpResponse("Processing of this customer's data is restricted.", status=403)
        form = TimingBeaconForm(request.POST)
        if not form.is_valid():
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
        services.page_timing_record(
            path=form.cleaned_data["path"],
            ttfb_ms=form.cleaned_data["ttfb"],
            dom_ready_ms=form.cleaned_data["dom_ready"],
            load_ms=form.cleaned_data["load"],
        )
        return HttpResponse(status=204)
    if kind == "visit":
        if not state.allows(ADVERTISING):
            return HttpResponse("No advertising consent.", status=403)
        if not consent.measurement_allowed(request, ADVERTISING):
            return HttpResponse("Processing of this customer's data is restricted.", status=403)
        visit = VisitBeaconForm(request.POST)
        if not visit.is_valid():
            return HttpResponse(visit.errors.as_text(), status=400, content_type="text/plain")
        services.page_visit_record(
            path=visit.cleaned_data["path"],
            from_path=visit.cleaned_data["from_path"],
            seconds_on_page=visit.cleaned_data["seconds"],
        )
        return HttpResponse(status=204)
    return HttpResponse("Unknown measurement kind.", status=400)


ERASURE_ATTEMPTS_PER_MINUTE = 5


@login_required
def erasure(request: AuthenticatedRequest) -> HttpResponse:
    """Account > Privacy > Erase: what blocks it, then password (and code) to schedule it."""
    from . import erasure as erasure_steps

    blockers = erasure_steps.blockers(request.user)
    form = ErasureConfirmForm(request.POST or None, user=request.user)
    if request.method == "POST" and not blockers:
        if _limit_reached(request, "erasure", ERASURE_ATTEMPTS_PER_MINUTE):
            return HttpResponse("Too many attempts; try again in a minute.", status=429)
        if form.is_valid():
            try:
                data_requests.erasure_request(user=request.user)
            except ApplicationError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, "Your erasure is scheduled; we emailed you a link.")
                return redirect("privacy:index")
    return render(
        request,
        "privacy/erasure.html",
        {
            "blockers": blockers,
            "form": form,
            "grace_days": settings.PRIVACY_ERASURE_GRACE_DAYS,
            "scheduled": selectors.live_erasure(user=request.user),
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_POST
def erasure_cancel(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    data_request = get_object_or_404(
        DataRequest, pk=pk, user=request.user, kind=DataRequest.Kind.ERASURE
    )
    if data_requests.erasure_cancel(data_request=data_request):
        messages.success(request, "Your erasure is cancelled. Nothing was deleted.")
    else:
        messages.error(request, "This erasure can no longer be cancelled.")
    return redirect("privacy:index")


def erasure_cancel_link(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET only asks (mail scanners follow links), POST cancels."""
    data_request = data_requests.erasure_from_token(token)
    if data_request is None:
        raise Http404("This link is not valid.")
    if request.method == "POST":
        cancelled = data_requests.erasure_cancel(data_request=data_request)
        return render(request, "privacy/erasure_cancelled.html", {"cancelled": cancelled})
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(request, "privacy/erasure_cancel.html", {"data_request": data_request})
