from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from .dashboard import panels_for
from .health import health_checks


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/dashboard.html",
        {"panels": panels_for(request)},
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose: 200 when the database, Redis and a worker answer,
    else 503 naming the part that failed."""
    checks = health_checks()
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
