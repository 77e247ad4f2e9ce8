from __future__ import annotations

from django import forms

from core.consent import OPTIONAL_GROUPS

from .models import CookieConsentRecord


class ConsentForm(forms.Form):
    """The banner's three buttons and the per-group choice, as one plain form."""

    choice = forms.ChoiceField(
        choices=[
            (CookieConsentRecord.Action.ACCEPT_ALL, "Accept all"),
            (CookieConsentRecord.Action.REJECT_ALL, "Reject all"),
            (CookieConsentRecord.Action.CUSTOM, "Save my choices"),
        ]
    )
    functional = forms.BooleanField(
        required=False, label="Functional: remember preferences such as your currency"
    )
    performance = forms.BooleanField(
        required=False, label="Performance: measure page speed anonymously"
    )
    advertising = forms.BooleanField(
        required=False, label="Advertising: record pages visited anonymously, Google tag"
    )
    next = forms.CharField(required=False, max_length=2000)

    def accepted(self) -> frozenset[str]:
        choice = self.cleaned_data["choice"]
        if choice == CookieConsentRecord.Action.ACCEPT_ALL:
            return frozenset(OPTIONAL_GROUPS)
        if choice == CookieConsentRecord.Action.REJECT_ALL:
            return frozenset()
        return frozenset(g for g in OPTIONAL_GROUPS if self.cleaned_data[g])


class WithdrawForm(forms.Form):
    group = forms.ChoiceField(choices=[(g, g) for g in OPTIONAL_GROUPS] + [("all", "all")])

    def groups(self) -> frozenset[str]:
        group = self.cleaned_data["group"]
        return frozenset(OPTIONAL_GROUPS) if group == "all" else frozenset({group})


class AcknowledgeForm(forms.Form):
    """Accepting the versions shown in the notice (their ids, so a newer one is not
    accepted unseen)."""

    documents = forms.CharField(max_length=100)

    def clean_documents(self) -> list[int]:
        try:
            return [int(part) for part in self.cleaned_data["documents"].split(",") if part]
        except ValueError as error:
            raise forms.ValidationError("Invalid document list.") from error


class TimingBeaconForm(forms.Form):
    path = forms.CharField(max_length=200)
    ttfb = forms.IntegerField(min_value=0, max_value=600_000)
    dom_ready = forms.IntegerField(min_value=0, max_value=600_000)
    load = forms.IntegerField(min_value=0, max_value=600_000)

    def clean_path(self) -> str:
        path = self.cleaned_data["path"]
        if not path.startswith("/"):
            raise forms.ValidationError("A path starts with /.")
        return path


class VisitBeaconForm(forms.Form):
    path = forms.CharField(max_length=200)
    from_path = forms.CharField(max_length=200, required=False)
    seconds = forms.IntegerField(min_value=0, max_value=86_400, required=False)

    def clean_path(self) -> str:
        path = self.cleaned_data["path"]
        if not path.startswith("/"):
            raise forms.ValidationError("A path starts with /.")
        return path

    def clean_from_path(self) -> str:
        path = self.cleaned_data["from_path"]
        if path and not path.startswith("/"):
            raise forms.ValidationError("A path starts with /.")
        return path
