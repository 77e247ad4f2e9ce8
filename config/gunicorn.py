"""Gunicorn settings for OnePanel: `gunicorn -c config/gunicorn.py config.wsgi`.

Used by the Dockerfile and docker-compose. Each value may be overridden from the
environment (GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_TIMEOUT, LOG_FORMAT).
"""

from __future__ import annotations

import gc
import os
from typing import Any

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: (2 x cores) + 1, gunicorn's own rule of thumb for I/O-bound Django.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
# A request still running after this is killed and its worker replaced; a PDF or a Stripe
# call fits well within it.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (docker stop, a deploy) or SIGHUP (reload), workers finish what they serve.
graceful_timeout = 30
keepalive = 5
# Workers are replaced, gracefully and not all at once, after this many requests: a slow
# leak in a library never grows without bound.
max_requests = 2000
max_requests_jitter = 200
# The master loads the app (Django, our apps, their middleware) once and every worker is
# forked with it loaded: a worker boots, on a start, a deploy or a max_requests
# replacement, without the second and a half of CPU that importing it again costs, and the
# workers share those pages with the master. A code change needs a restart of the master
# (a new container), not a HUP; nothing of ours opens a connection or a thread while the
# app loads (database, cache and broker connect on first use, in each worker).
preload_app = True
# Headers a reverse proxy may set are trusted from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
# Method, the path's URL pattern (no token, no query string), status, bytes, seconds.
# No client address, user agent or referrer: the access log holds no personal data.
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(L)s"


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """Gunicorn's logger with every atom that could carry a secret or personal data
    replaced: the path becomes its URL pattern (core.redact), the query string, request
    line, client address, user agent, referrer and headers are dropped."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        from core.redact import redact_path

        atoms = {
            key: value
            for key, value in super().atoms(resp, req, environ, request_time).items()
            if not key.startswith("{")
        }
        path = redact_path(environ.get("PATH_INFO", ""))
        atoms.update(
            U=path,
            q="",
            r=f"{atoms['m']} {path} {atoms['H']}",
            h="-",
            u="-",
            a="-",
            f="-",
        )
        return atoms


logger_class = RedactingLogger


def pre_fork(server: Any, worker: Any) -> None:
    """The loaded app, frozen in the master before each fork: a worker's collections never
    walk it, nor touch (and so copy) the pages it shares with the master."""
    gc.freeze()


def post_worker_init(worker: Any) -> None:
    """Moves what loading the app made (Django and our modules, some 170,000 objects the
    collector tracks) out of its sight: they live as long as the worker, yet every full
    collection walked them, and at exit Python's final collections did, for 0.9 s of CPU
    per worker (on each deploy, and each max_requests replacement). Frozen, a worker
    exits in a tenth of that; what a request allocates is collected as before."""
    gc.freeze()


if os.environ.get("LOG_FORMAT", "plain") == "json":
    # The same JSON lines as Django's own logging (config/settings/framework.py).
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "core.logs.JsonFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json"},
        },
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def worker_exit(server: Any, worker: Any) -> None:
    """A worker that exits (a restart, a recycle after max_requests, a shutdown) skips the
    cycle collections of interpreter teardown: with Django loaded they cost about a second
    of CPU, and at exit nothing of ours waits on a cycle being collected."""
    gc.freeze()
