"""The server-error page: a database that cannot be reached is a 503, not a 500.

Django calls handler500 inside the `except` that caught the error, wherever it was
raised (a view, a middleware, the session or the user loaded from the database), so
the error is still at hand here. A restarting PostgreSQL then gives a clean "back in
a moment" page with Retry-After, and the next request reconnects on its own
(CONN_HEALTH_CHECKS drops the broken connection; nothing needs a restart).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 5


def database_unavailable() -> bool:
    error = sys.exc_info()[1]
    return isinstance(error, OperationalError | InterfaceError)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if database_unavailable():
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)
