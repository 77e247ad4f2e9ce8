from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedRequest
from core.exceptions import ApplicationError

from . import selectors, services
from .forms import DocumentsForm
from .models import Case, Document
from .risk import visitor_from_request


@login_required
@require_GET
def case_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "verification/case_list.html",
        {"cases": selectors.customer_cases(user=request.user)},
    )


@login_required
def case_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=pk, user=request.user)
    form = DocumentsForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.documents_submit(
                    case=case,
                    card_picture=form.cleaned_data["card_picture"],
                    identity_picture=form.cleaned_data["identity_picture"],
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, "Thank you: your pictures are sent for review.")
            return redirect("verification:case", pk=case.pk)
        status = 400
    return render(
        request,
        "verification/case_detail.html",
        {
            "case": case,
            "form": form,
            "documents": case.documents.order_by("kind"),
            "retention_days": settings.VERIFICATION_DOCUMENT_RETENTION_DAYS,
        },
        status=status,
    )


@login_required
@require_GET
def document_view(request: AuthenticatedRequest, pk: int, document_pk: int) -> HttpResponse:
    """The customer's own picture, decrypted (another customer gets 404)."""
    document = get_object_or_404(Document, pk=document_pk, case_id=pk, case__user=request.user)
    services.document_access_log(
        document=document,
        viewer=request.user,
        ip_address=visitor_from_request(request).ip_address,
    )
    return document_response(document=document)


def document_response(*, document: Document) -> HttpResponse:
    """A decrypted document shown in the browser, never cached anywhere."""
    response = HttpResponse(
        services.document_read(document=document), content_type=document.content_type
    )
    extension = {"image/jpeg": "jpg", "image/png": "png"}.get(document.content_type, "pdf")
    response["Content-Disposition"] = (
        f'inline; filename="{document.kind}-{document.case_id}.{extension}"'
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response
