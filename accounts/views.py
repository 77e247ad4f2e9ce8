from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm
from .selectors import user_security_summary
from .services import PROFILE_FIELDS, user_update_profile


@login_required
def account_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/account_index.html",
        {"security": user_security_summary(user=request.user)},
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
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
