"""Client-area support pages: list, open, read and answer tickets, download their files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest
from core.exceptions import ApplicationError
from core.paging import page_of

from . import selectors, services, tables
from .forms import ReplyForm, TicketOpenForm
from .models import Attachment, Department, PrivacyRequestType, Ticket

STATUS_CHOICES = [
    ("open", "Open"),
    ("awaiting_customer", "Awaiting your answer"),
    ("closed", "Closed"),
    ("all", "All"),
]


@login_required
@require_GET
def ticket_list(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in selectors.STATUS_FILTERS:
        status = "open"
    tickets = selectors.customer_tickets(user=request.user, status=status)
    page = page_of(tickets.values(*tables.TICKET_COLUMNS), request.GET.get("page"), 50)
    return render(
        request,
        "support/tickets.html",
        {
            "page": page,
            "ticket_rows": tables.ticket_rows(page.object_list),
            "status": status,
            "status_choices": STATUS_CHOICES,
        },
    )


def _initial_for(request: HttpRequest) -> dict[str, object]:
    """?type=restrict (and correct, update, object) preselects Privacy and the request type;
    ?department=<slug> preselects a department."""
    initial: dict[str, object] = {}
    request_type = request.GET.get("type", "")
    if request_type in PrivacyRequestType.values:
        privacy = Department.objects.filter(handles_privacy_requests=True, is_active=True).first()
        if privacy is not None:
            initial |= {
                "department": privacy,
                "request_type": request_type,
                "subject": PrivacyRequestType(request_type).label,
            }
    elif slug := request.GET.get("department", ""):
        department = Department.objects.filter(slug=slug, is_active=True).first()
        if department is not None:
            initial["department"] = department
    return initial


@login_required
def ticket_open(request: AuthenticatedRequest) -> HttpResponse:
    form = TicketOpenForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        initial=_initial_for(request),
    )
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_open(
                user=request.user,
                department=form.cleaned_data["department"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
                priority=form.cleaned_data["priority"],
                service=form.cleaned_data["service"],
                invoice=form.cleaned_data["invoice"],
                request_type=form.cleaned_data["request_type"],
                from_address=request.user.email,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Ticket {ticket.reference} is open: we will answer here and by email."
            )
            return redirect("support:ticket", pk=ticket.pk)
    return render(
        request, "support/ticket_open.html", {"form": form}, status=400 if form.errors else 200
    )


def _ticket_page(request: AuthenticatedRequest, ticket: Ticket, form: ReplyForm) -> HttpResponse:
    return render(
        request,
        "support/ticket.html",
        {
            "ticket": ticket,
            "thread": selectors.thread(ticket=ticket, include_internal=False),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def ticket_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(
        Ticket.objects.select_related("department", "service__product", "invoice"),
        pk=pk,
        user=request.user,
    )
    if ticket.merged_into_id is not None:
        # Its messages now live in the ticket it was merged into.
        return redirect("support:ticket", pk=ticket.merged_into_id)
    return _ticket_page(request, ticket, ReplyForm())


@login_required
@require_POST
def ticket_reply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(
        Ticket.objects.select_related("department"), pk=pk, user=request.user
    )
    if ticket.merged_into_id is not None:
        ticket = get_object_or_404(Ticket, pk=ticket.merged_into_id, user=request.user)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _ticket_page(request, ticket, form)
    services.ticket_customer_reply(
        ticket=ticket,
        author=request.user,
        body=form.cleaned_data["body"],
        files=form.cleaned_data["attachments"],
        from_address=request.user.email,
    )
    messages.success(request, "Your reply has been added.")
    return redirect("support:ticket", pk=ticket.pk)


@login_required
@require_POST
def ticket_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk, user=request.user)
    services.ticket_close(ticket=ticket)
    messages.success(request, f"Ticket {ticket.reference} is closed. Reply or reopen it any time.")
    return redirect("support:ticket", pk=ticket.pk)


@login_required
@require_POST
def ticket_reopen(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk, user=request.user)
    services.ticket_reopen(ticket=ticket)
    messages.success(request, f"Ticket {ticket.reference} is open again.")
    return redirect("support:ticket", pk=ticket.pk)


@login_required
@require_GET
def attachment_download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(selectors.customer_attachment(user=request.user, pk=pk))
    return attachment_response(attachment)


def attachment_response(attachment: Attachment) -> FileResponse:
    """The file as a download (never shown inline), with the type its content has."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
