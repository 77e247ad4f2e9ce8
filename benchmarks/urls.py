"""The project's URLs plus /bench/ok: the bare view of the benchmark, served inside
OnePanel's whole middleware stack (config.settings.bench only, never in production)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler500 as project_handler500
from config.urls import urlpatterns as project_urlpatterns


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok", ok, name="bench_ok"), *project_urlpatterns]
handler500 = project_handler500
