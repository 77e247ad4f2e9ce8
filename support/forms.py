from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from billing.models import Invoice, Service
from core.exceptions import ApplicationError

from . import selectors
from .files import ACCEPTED_LIST, CheckedFile, check_attachments
from .models import Department, Priority, PrivacyRequestType


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, checked by content (support.files)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[CheckedFile]:
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if self.required and not uploads:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        files: list[tuple[str, bytes]] = []
        for upload in uploads:
            if not isinstance(upload, UploadedFile):
                raise forms.ValidationError("The file could not be read; choose it again.")
            files.append((upload.name or "attachment", upload.read()))
        try:
            return check_attachments(files)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from error


def _files_field() -> MultipleFileField:
    return MultipleFileField(
        label="Attachments",
        required=False,
        help_text=f"Optional. {ACCEPTED_LIST}; up to {settings.SUPPORT_ATTACHMENTS_PER_MESSAGE} "
        f"files of at most {filesizeformat(settings.SUPPORT_ATTACHMENT_MAX_BYTES)} each.",
    )


class TicketOpenForm(forms.Form):
    department: forms.ModelChoiceField[Department] = forms.ModelChoiceField(
        queryset=Department.objects.none(), empty_label=None, label="Department"
    )
    request_type = forms.ChoiceField(
        label="Privacy request",
        required=False,
        choices=[("", "Not a privacy request"), *PrivacyRequestType.choices],
        help_text="For the Privacy department: what you are asking us to do. "
        "We answer within one month.",
    )
    subject = forms.CharField(max_length=200)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        queryset=Service.objects.none(), required=False, label="About a service", empty_label="None"
    )
    invoice: forms.ModelChoiceField[Invoice] = forms.ModelChoiceField(
        queryset=Invoice.objects.none(),
        required=False,
        label="About an invoice",
        empty_label="None",
    )
    body = forms.CharField(
        label="Message", widget=forms.Textarea(attrs={"rows": 8}), max_length=20000
    )
    attachments = _files_field()

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField[Department], self.fields["department"]
        ).queryset = selectors.open_departments()
        cast(
            forms.ModelChoiceField[Service], self.fields["service"]
        ).queryset = selectors.linkable_services(user=user)
        cast(
            forms.ModelChoiceField[Invoice], self.fields["invoice"]
        ).queryset = selectors.linkable_invoices(user=user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        department = data.get("department")
        if data.get("request_type") and department and not department.handles_privacy_requests:
            self.add_error(
                "request_type",
                f"Privacy requests go to the Privacy department, not {department.name}.",
            )
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply", widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    attachments = _files_field()
