"""Bare Django for the benchmark's yardstick: no app, no middleware, one view
returning "ok". Served by the same gunicorn as OnePanel (`benchmarks.bare:application`)."""

from __future__ import annotations

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-django-only-serves-ok",  # noqa: S106 - signs nothing
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
)


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok", ok)]
application = get_wsgi_application()
