from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.usersessions.forms import ManageUserSessionsForm
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from phonenumber_field.phonenumber import PhoneNumber, to_python

from . import tables
from .forms import ProfileForm
from .http import AuthenticatedRequest
from .selectors import user_security_summary, user_session_list
from .services import PROFILE_FIELDS, user_update_profile


@login_required
def account_index(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "accounts/account_index.html",
        {"security": user_security_summary(user=request.user)},
    )


def _changes_phone(request: AuthenticatedRequest) -> bool:
    """Whether this request saves a different phone number (where SMS alerts go)."""
    if request.method != "POST":
        return False
    submitted = to_python(request.POST.get("phone", ""))
    if not isinstance(submitted, PhoneNumber) or not submitted.is_valid():
        return False  # the form refuses it; nothing changes
    return bool(submitted != request.user.phone)


@login_required
# Like the email address, the phone number only changes after a fresh password or TOTP
# check: allauth stashes the POST, asks, and replays it.
@reauthentication_required(allow_get=True, enabled=_changes_phone)  # type: ignore[untyped-decorator]
def profile(request: AuthenticatedRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_update_profile(
            user=request.user, data={name: form.cleaned_data[name] for name in PROFILE_FIELDS}
        )
        messages.success(request, "Your profile has been saved.")
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "security": user_security_summary(user=request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def sessions(request: AuthenticatedRequest) -> HttpResponse:
    """Where the customer is signed in (browser, system, device, IP), and sign-out of the rest."""
    if request.method == "POST":
        ManageUserSessionsForm(request.POST, request=request).save(request)
        messages.success(request, "All your other sessions have been signed out.")
        return redirect("usersessions_list")
    sessions = user_session_list(user=request.user)
    return render(
        request,
        "usersessions/usersession_list.html",
        {
            "session_rows": tables.session_rows(
                sessions, current_session_key=request.session.session_key
            ),
            "session_count": len(sessions),
        },
    )
