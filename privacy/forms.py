from __future__ import annotations

import re
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.urls import Resolver404, resolve

from accounts.models import User
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
            ids = [int(part) for part in self.cleaned_data["documents"].split(",") if part]
        except ValueError as error:
            raise forms.ValidationError("Invalid document list.") from error
        if not ids or any(not 0 < pk < 2**63 for pk in ids):
            raise forms.ValidationError("Invalid document list.")
        return ids


_CAPTURE = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_REGEX = re.compile(r"[()\[\]*+?\\|{}]")


def anonymous_path(path: str) -> str | None:
    """The page's URL pattern, e.g. /billing/invoices/<pk>/, or None for no page of ours.

    A browser's path can carry secrets and identifiers (password-reset and email
    confirmation keys, invoice numbers): what is stored names the page, never the values.
    """
    try:
        match = resolve(path)
    except Resolver404:
        return None
    route = _CAPTURE.sub(lambda m: f"<{m.group(1)}>", match.route)
    route = re.sub(r"<\w+:(\w+)>", r"<\1>", route).replace("^", "").replace("$", "")
    if _REGEX.search(route):  # an unnamed group or other pattern syntax: name the view
        return f"/<{match.view_name}>"
    return "/" + route


def _page_path(value: str, *, required: bool) -> str:
    if not value:
        if required:
            raise forms.ValidationError("A path is required.")
        return ""
    if not value.startswith("/"):
        raise forms.ValidationError("A path starts with /.")
    page = anonymous_path(value)
    if page is None:
        if required:
            raise forms.ValidationError("No such page.")
        return ""
    return page[:200]


class TimingBeaconForm(forms.Form):
    path = forms.CharField(max_length=200)
    ttfb = forms.IntegerField(min_value=0, max_value=600_000)
    dom_ready = forms.IntegerField(min_value=0, max_value=600_000)
    load = forms.IntegerField(min_value=0, max_value=600_000)

    def clean_path(self) -> str:
        return _page_path(self.cleaned_data["path"], required=True)


class VisitBeaconForm(forms.Form):
    path = forms.CharField(max_length=200)
    from_path = forms.CharField(max_length=200, required=False)
    seconds = forms.IntegerField(min_value=0, max_value=86_400, required=False)

    def clean_path(self) -> str:
        return _page_path(self.cleaned_data["path"], required=True)

    def clean_from_path(self) -> str:
        return _page_path(self.cleaned_data["from_path"], required=False)


class ErasureConfirmForm(forms.Form):
    """Re-authentication before an erasure: the password, and the current code of the
    authenticator app when the customer has one."""

    password = forms.CharField(label="Your password", widget=forms.PasswordInput, strip=False)
    code = forms.CharField(label="Code from your authenticator app", max_length=20, required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if self.totp is None:
            del self.fields["code"]
        else:
            self.fields["code"].required = True

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password

    def clean_code(self) -> str:
        code: str = self.cleaned_data.get("code", "")
        if self.totp is not None and not TOTP(self.totp).validate_code(code):
            raise forms.ValidationError("That code is not valid; enter the current one.")
        return code
