from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from .models import RejectionReason
from .uploads import CleanFile, UploadRefused, clean_upload

ACCEPT = "image/jpeg,image/png,application/pdf"


def _limit() -> str:
    return f"{settings.VERIFICATION_MAX_UPLOAD_BYTES / (1024 * 1024):g} MB"


class DocumentsForm(forms.Form):
    """The two pictures; each is checked (and re-encoded) here, so a refused file is a
    field error and nothing is stored."""

    card_picture = forms.FileField(
        label="Picture of the card",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    identity_picture = forms.FileField(
        label="Picture of your government ID",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["card_picture"].help_text = (
            "The front of the card with your name and the last 4 digits readable. You may "
            f"cover the other digits. JPEG, PNG or PDF, up to {_limit()}."
        )
        self.fields["identity_picture"].help_text = (
            "Passport, national identity card or driving licence, with your name and photo "
            f"readable. JPEG, PNG or PDF, up to {_limit()}."
        )

    def _clean_file(self, name: str) -> CleanFile:
        try:
            return clean_upload(self.cleaned_data[name])
        except UploadRefused as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean_card_picture(self) -> CleanFile:
        return self._clean_file("card_picture")

    def clean_identity_picture(self) -> CleanFile:
        return self._clean_file("identity_picture")


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=RejectionReason.choices)
    note = forms.CharField(
        label="Note to the customer",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
