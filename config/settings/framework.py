"""Django's own settings and the platform under every app: installed apps, middleware,
database, cache and sessions, sign-in (django-allauth), static and media files, email,
security headers, the outside services' keys, Celery, and logging.

config/settings/base.py imports these and adds each app's settings.
"""

from __future__ import annotations

from typing import Any

import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue

from .environment import *  # noqa: F403
from .environment import (
    BASE_DIR,
    DEFAULT_SECRET_KEY,
    env,
    env_list,
    env_secret,
    fernet_keys,
    mailers_from_url,
)

# Lets Django's generic classes be subscripted at run time (ModelAdmin[Invoice], ...),
# as their type stubs have them.
django_stubs_ext.monkeypatch()

SECRET_KEY = env_secret("SECRET_KEY", DEFAULT_SECRET_KEY)
DEBUG: bool = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or ["127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME: str = env.str("SITE_NAME", default="OnePanel")
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Demo accounts with published passwords: only on the embedded default.
DEMO_DATA_ALLOWED = True

INSTALLED_APPS = [
    "core.apps.OnePanelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_countries",
    "phonenumber_field",
    "core",
    "accounts",
    "notifications",
    "verification",
    "provisioning",
    "billing",
    "support",
    "privacy",
    # Who changed what and when on invoices, payments and customers (docs/architecture.md).
    "auditlog",
]

MIDDLEWARE = [
    "core.middleware.RefuseTraceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.PrivatePagesNoStoreMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the customer from the session's cache entry (one Redis read for both).
    "accounts.middleware.AuthenticationMiddleware",
    # Names the signed-in staff member as the actor of every audit entry a request writes
    # (django-auditlog's, without its per-request cost).
    "core.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # allauth's activity tracking, at most once per USERSESSIONS_ACTIVITY_INTERVAL.
    "accounts.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# Database: SQLite by default, PostgreSQL (or anything dj-database-url reads) from DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
    # BEGIN, so a second writer waits out the busy timeout instead of failing at once
    # with "database is locked" when its read turns into a write (a page load and a
    # beacon arriving together).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # psycopg's connection pool in each process (docs/scaling.md); 0 keeps one
    # persistent connection per thread instead. Behind PgBouncer leave it at 0.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=0)
    if DB_POOL_MAX_SIZE:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        }
# A read replica for reports: reads inside core.db.reporting() go there (docs/scaling.md).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["core.db.ReportsReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and sessions. allauth's rate limits and user sessions need one cache
# shared by every process, so with REDIS_URL the cache is Redis.
REDIS_URL: str = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Fails soft (core/cache.py): with Redis down, pages run on the database alone.
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "onepanel",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database (allauth.usersessions cannot use signed cookies)
# and are read through the cache, whose entry also holds the signed-in customer.
SESSION_ENGINE = "accounts.session_store"
SESSION_COOKIE_AGE: int = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 14)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, reading the signed-in customer from the cache.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:dashboard"

# django-allauth: email is the login, verified before first use.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.CustomerSignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
# accounts' adapter, extended by notifications so allauth's emails go through the outbox.
ACCOUNT_ADAPTER = "notifications.account_adapter.OutboxAccountAdapter"
ACCOUNT_ALLOW_SIGNUPS: bool = env.bool("ACCOUNT_ALLOW_SIGNUPS", default=True)
ACCOUNT_RATE_LIMITS = {
    # allauth's defaults, spelled out so a reviewer sees them.
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
USERSESSIONS_TRACK_ACTIVITY = True
# Staff without TOTP are sent to set it up before any admin page opens (always on in production).
ADMIN_REQUIRE_MFA = env.bool("ADMIN_REQUIRE_MFA", default=False)
# Last seen (time, IP, browser) is written at most this often per session; a new IP
# address or browser is recorded at once.
USERSESSIONS_ACTIVITY_INTERVAL = env.int("USERSESSIONS_ACTIVITY_INTERVAL", default=300)
# How many reverse proxies sit in front of the app: allauth (and our consent records) then
# take the client address from X-Forwarded-For instead of the proxy's.
ALLAUTH_TRUSTED_PROXY_COUNT: int = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
MFA_ENCRYPTION_KEYS = fernet_keys("MFA_ENCRYPTION_KEYS", SECRET_KEY)
# Secrets an outbox message carries (a first password) are kept encrypted beside the
# row until it is sent (notifications/secrets.py); by default under the TOTP keys.
NOTIFICATIONS_ENCRYPTION_KEYS = env_list("NOTIFICATIONS_ENCRYPTION_KEYS") or MFA_ENCRYPTION_KEYS

LANGUAGE_CODE = "en-us"
TIME_ZONE: str = env.str("TIME_ZONE", default="UTC")
# The client area is in English only (no LocaleMiddleware, no translations of our own).
# With translation machinery on, every date, month name and lazy string of a page went
# through gettext and a thread-local lookup: a third of the invoice list's time
# (docs/benchmarks.md, "Where the time went"). Off, they are plain strings.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES: dict[str, dict[str, Any]] = {
    # Media: MEDIA_ROOT on this machine, or with several web machines an S3-compatible
    # bucket (MEDIA_STORAGE_BACKEND=storages.backends.s3.S3Storage, docs/scaling.md).
    "default": {
        "BACKEND": env.str(
            "MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email through Django 6.1 mailers.
MAILERS = mailers_from_url(env_secret("EMAIL_URL"))
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <billing@localhost>")
SERVER_EMAIL: str = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Content Security Policy (Django 6's built-in middleware): no third-party origin by default.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# Permissions-Policy on every response (django-permissions-policy): no page of ours uses a
# camera, microphone, location or sensor; payment stays for Stripe's iframes (set below).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Outside services. An empty key means "not configured": the module that uses
# it says so instead of failing deep inside a vendor library.
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY: str = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE: str = env.str("STRIPE_API_BASE", default="")
TWILIO_ACCOUNT_SID: str = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER: str = env.str("TWILIO_FROM_NUMBER", default="")
DOCUMENT_ENCRYPTION_KEYS = fernet_keys("DOCUMENT_ENCRYPTION_KEYS", SECRET_KEY)

# Celery: Redis broker when REDIS_URL is set; otherwise tasks run in-process.
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Queues by kind of work, so each can get workers of its own (docs/scaling.md):
# `celery -A config worker -Q email`, `-Q sms`, `-Q billing`, `-Q default`. A worker
# started without -Q takes all four.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name) for name in ("default", "email", "sms", "billing")]
CELERY_TASK_ROUTES = {
    "notifications.tasks.send_emails": {"queue": "email"},
    "notifications.tasks.send_message": {"queue": "email"},
    "notifications.tasks.send_texts": {"queue": "sms"},
    "billing.tasks.*": {"queue": "billing"},
}
CELERY_BEAT_SCHEDULE = {
    # /healthz reports a worker missing when this has not run for 2 minutes.
    "core-worker-heartbeat": {"task": "core.tasks.worker_heartbeat", "schedule": 30.0},
    "accounts-clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
    },
}

# LOG_FORMAT=json writes one JSON object a line (python-json-logger) for log shippers.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOG_FORMATTERS: dict[str, dict[str, Any]] = {
    "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    "json": {
        "()": "core.logs.JsonFormatter",
        "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    },
}
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": LOG_FORMATTERS[LOG_FORMAT]},
    # No secret from a path (reset keys, unsubscribe tokens) reaches any log line.
    "filters": {"redact_paths": {"()": "core.logs.RedactPathsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "default",
            "filters": ["redact_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines carry paths with tokens and emails; keep them out of logs.
        "django.server": {"level": "WARNING"},
    },
}

# With JSON logs, workers and beat log through LOGGING too instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER: bool = LOG_FORMAT != "json"

# django-auditlog: no client IP in the entries (the actor is enough, and an IP is
# personal data kept for no purpose of the audit).
AUDITLOG_DISABLE_REMOTE_ADDR = True
