"""OnePanel settings, read once from the environment.

With no environment at all the app runs on an embedded default: SQLite, a
local-memory cache, and Celery tasks executed in-process. Setting DATABASE_URL
and REDIS_URL moves it onto PostgreSQL, a Redis cache and real workers.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import django_stubs_ext
import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

# Lets Django's generic classes be subscripted at run time (ModelAdmin[Invoice], ...),
# as their type stubs have them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEFAULT_SECRET_KEY = "insecure-embedded-default-do-not-use-in-production"  # noqa: S105


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    value: str = env.str(name, default=default)
    return value


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env.str(name, default="").split(",") if item.strip()]


def mailers_from_url(url: str) -> dict[str, dict[str, Any]]:
    """Django 6.1 MAILERS from EMAIL_URL; the console when EMAIL_URL is unset.

    smtp://user:password@host:587 (plain), smtp+tls://... (STARTTLS),
    smtps://... (implicit TLS); ?timeout=10 sets the socket timeout.
    """
    if not url:
        return {"default": {"BACKEND": "core.mail.ReadableConsoleEmailBackend"}}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme {parts.scheme!r} is not supported: use smtp, smtp+tls or smtps."
        )
    query = parse_qs(parts.query)
    options: dict[str, object] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[parts.scheme],
        "use_tls": parts.scheme == "smtp+tls",
        "use_ssl": parts.scheme == "smtps",
        "timeout": int(query.get("timeout", ["10"])[0]),
    }
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    }


def fernet_keys(name: str, fallback_secret: str) -> list[str]:
    """Fernet keys from a comma-separated variable: the first encrypts, all decrypt.

    Without the variable, one key is derived from SECRET_KEY so the embedded
    default works; production settings insist on the variable.
    """
    keys = env_list(name)
    if keys:
        return keys
    digest = hashlib.sha256(f"{name}:{fallback_secret}".encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


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
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Names the signed-in staff member as the actor of every audit entry a request writes.
    "auditlog.middleware.AuditlogMiddleware",
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
# and are read through the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
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
from django.utils.csp import CSP  # noqa: E402

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

# --- notifications ---
# The sender named in every email's layout (and its postal address, which
# marketing law in many countries requires).
OPERATOR_NAME: str = env.str("OPERATOR_NAME", default=SITE_NAME)
# The embedded default (demo data allowed) has an invented postal address, so a demo
# email campaign can be sent; production.py reads OPERATOR_ADDRESS with no default.
DEMO_OPERATOR_ADDRESS = "OnePanel Demo Hosting Ltd, 1 Example Street, Dublin D02 X285, Ireland"
OPERATOR_ADDRESS: str = env.str(
    "OPERATOR_ADDRESS", default=DEMO_OPERATOR_ADDRESS if DEMO_DATA_ALLOWED else ""
)
# Like Django's email backends: twilio, console or locmem.
SMS_BACKEND: str = env.str(
    "SMS_BACKEND",
    default="notifications.sms.TwilioBackend"
    if TWILIO_ACCOUNT_SID
    else "notifications.sms.ConsoleBackend",
)
CELERY_BEAT_SCHEDULE["notifications-requeue-stuck"] = {
    "task": "notifications.tasks.requeue_stuck_messages",
    "schedule": 60.0,
}

# --- privacy ---
INSTALLED_APPS += ["cookie_consent"]
MIDDLEWARE += ["privacy.middleware.ConsentMiddleware"]
# Innermost, so the 405 page renders with the consent state and the menu.
MIDDLEWARE += ["core.middleware.FriendlyMethodNotAllowedMiddleware"]
TEMPLATES[0]["OPTIONS"]["context_processors"] += ["privacy.context_processors.privacy"]
# We keep our own ledger (ConsentRecord); the package's LogItem records no user or IP.
COOKIE_CONSENT_LOG_ENABLED = False
PRIVACY_CONSENT_COOKIE = "consent"
# The policy promises a choice is asked again after 12 months.
PRIVACY_CONSENT_MAX_AGE_DAYS: int = env.int("PRIVACY_CONSENT_MAX_AGE_DAYS", default=365)
# Per-session technical data (browser, system, device, IP, connection) is kept this long.
PRIVACY_TECHNICAL_DATA_DAYS: int = env.int("PRIVACY_TECHNICAL_DATA_DAYS", default=90)
if not 1 <= PRIVACY_CONSENT_MAX_AGE_DAYS <= 365:
    raise ImproperlyConfigured(
        "PRIVACY_CONSENT_MAX_AGE_DAYS must be between 1 and 365: the policy promises to ask "
        "again after 12 months at most."
    )
if PRIVACY_TECHNICAL_DATA_DAYS < 1:
    raise ImproperlyConfigured("PRIVACY_TECHNICAL_DATA_DAYS must be 1 or more.")
# Google tag (advertising group): nothing loads without an id, nor without consent.
GOOGLE_TAG_ID: str = env.str("GOOGLE_TAG_ID", default="")
CELERY_BEAT_SCHEDULE["privacy-requeue-pending-work"] = {
    "task": "privacy.tasks.requeue_pending_work",
    "schedule": 300.0,
}
# GDPR self-service (docs/privacy-promises.md): how long an export's link and file last,
# how long an erasure waits (cancellable) before it runs, and the smallest group an
# aggregate report shows.
PRIVACY_EXPORT_DAYS: int = env.int("PRIVACY_EXPORT_DAYS", default=7)
PRIVACY_ERASURE_GRACE_DAYS: int = env.int("PRIVACY_ERASURE_GRACE_DAYS", default=14)
PRIVACY_REPORT_MIN_GROUP: int = env.int("PRIVACY_REPORT_MIN_GROUP", default=10)
if PRIVACY_EXPORT_DAYS < 1 or PRIVACY_ERASURE_GRACE_DAYS < 0 or PRIVACY_REPORT_MIN_GROUP < 2:
    raise ImproperlyConfigured(
        "PRIVACY_EXPORT_DAYS must be 1 or more, PRIVACY_ERASURE_GRACE_DAYS 0 or more and "
        "PRIVACY_REPORT_MIN_GROUP 2 or more."
    )
STORAGES["privacy"] = {
    "BACKEND": env.str(
        "PRIVACY_STORAGE_BACKEND", default="verification.storage.PrivateFileSystemStorage"
    ),
    "OPTIONS": env.json(
        "PRIVACY_STORAGE_OPTIONS",
        default={
            "location": str(
                env.path("PRIVACY_STORAGE_DIR", default=BASE_DIR / "private" / "exports")
            )
        },
    ),
}
CELERY_BEAT_SCHEDULE["privacy-delete-expired-exports"] = {
    "task": "privacy.tasks.delete_expired_exports",
    "schedule": crontab(minute=7),
}
CELERY_BEAT_SCHEDULE["privacy-run-due-erasures"] = {
    "task": "privacy.tasks.run_due_erasures",
    "schedule": crontab(minute="*/10"),
}
CELERY_BEAT_SCHEDULE["privacy-prune-technical-data"] = {
    "task": "privacy.tasks.prune_technical_data",
    "schedule": crontab(minute=37, hour=3),
}

# --- billing ---
# The Stripe keys and STRIPE_API_BASE are read above with the other outside services.
# STRIPE_JS_URL: where pages load Stripe.js (localstripe serves a stand-in in tests).
STRIPE_JS_URL: str = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
_stripe_js_origin = "{0.scheme}://{0.netloc}".format(urlsplit(STRIPE_JS_URL))
SECURE_CSP["script-src"].append(_stripe_js_origin)
SECURE_CSP["frame-src"] = [CSP.SELF, _stripe_js_origin, "https://hooks.stripe.com"]
PERMISSIONS_POLICY["payment"] = ["self", _stripe_js_origin]
SECURE_CSP["connect-src"] = [
    CSP.SELF,
    _stripe_js_origin,
    urlsplit(STRIPE_API_BASE).scheme + "://" + urlsplit(STRIPE_API_BASE).netloc
    if STRIPE_API_BASE
    else "https://api.stripe.com",
]
BILLING_CURRENCIES = ["EUR", "USD", "GBP"]
BILLING_DEFAULT_CURRENCY: str = env.str("BILLING_DEFAULT_CURRENCY", default="EUR")
# Our own country, for EU VAT reverse charge (ISO 3166 code).
BILLING_SELLER_COUNTRY: str = env.str("BILLING_SELLER_COUNTRY", default="IE")
# Who issues the invoices: printed on every invoice page and PDF (EU invoices must
# carry the supplier's name, address and VAT number; company law adds the registration).
# The embedded default prints the demo operator's invented identity.
BILLING_SELLER_NAME: str = env.str("BILLING_SELLER_NAME", default=SITE_NAME)
BILLING_SELLER_ADDRESS: str = env.str("BILLING_SELLER_ADDRESS", default=OPERATOR_ADDRESS)
BILLING_SELLER_VAT_NUMBER: str = env.str(
    "BILLING_SELLER_VAT_NUMBER", default="IE9999999XA" if DEMO_DATA_ALLOWED else ""
)
BILLING_SELLER_COMPANY_NUMBER: str = env.str(
    "BILLING_SELLER_COMPANY_NUMBER", default="999999 (demo)" if DEMO_DATA_ALLOWED else ""
)
BILLING_INVOICE_PREFIX: str = env.str("BILLING_INVOICE_PREFIX", default="INV-")
BILLING_CREDIT_NOTE_PREFIX: str = env.str("BILLING_CREDIT_NOTE_PREFIX", default="CN-")
BILLING_RENEWAL_DAYS_AHEAD: int = env.int("BILLING_RENEWAL_DAYS_AHEAD", default=14)
BILLING_REMINDER_DAYS_BEFORE: int = env.int("BILLING_REMINDER_DAYS_BEFORE", default=3)
BILLING_SUSPEND_AFTER_DAYS: int = env.int("BILLING_SUSPEND_AFTER_DAYS", default=7)
# Days a service stays suspended for an unpaid invoice before it is terminated.
BILLING_TERMINATE_AFTER_DAYS: int = env.int("BILLING_TERMINATE_AFTER_DAYS", default=30)
BILLING_AUTO_CHARGE_MAX_ATTEMPTS: int = env.int("BILLING_AUTO_CHARGE_MAX_ATTEMPTS", default=3)
# What terminating a service for non-payment does to its unpaid invoices for periods
# already begun (the customer had the service, suspended or not): "keep" leaves them
# owed (overdue, still payable, still charged by auto-charge; paying does not revive
# the service), "write_off" cancels them. Invoices for periods not begun are cancelled
# either way. See docs/billing.md, "Overdue".
BILLING_OVERDUE_TERMINATION_INVOICES: str = env.str(
    "BILLING_OVERDUE_TERMINATION_INVOICES", default="keep"
)
if BILLING_OVERDUE_TERMINATION_INVOICES not in ("keep", "write_off"):
    raise ImproperlyConfigured("BILLING_OVERDUE_TERMINATION_INVOICES must be keep or write_off.")
CELERY_BEAT_SCHEDULE |= {
    "billing-renewal-invoices": {
        "task": "billing.tasks.generate_renewal_invoices",
        "schedule": crontab(minute=5, hour=1),
    },
    "billing-overdue-and-suspensions": {
        "task": "billing.tasks.mark_overdue_and_suspend",
        "schedule": crontab(minute=20, hour=1),
    },
    "billing-reminders": {
        "task": "billing.tasks.send_payment_reminders",
        "schedule": crontab(minute=0, hour=9),
    },
    "billing-requeue-dropped-work": {
        "task": "billing.tasks.requeue_dropped_work",
        "schedule": 300.0,
    },
    "billing-auto-charge": {
        "task": "billing.tasks.auto_charge_due_invoices",
        "schedule": crontab(minute=0, hour=6),
    },
    # Verification never calls billing: billing reads approved cases and charges.
    "billing-settle-verification-holds": {
        "task": "billing.tasks.settle_verification_holds",
        "schedule": 60.0,
    },
}
# WeasyPrint and fontTools log every step of every PDF at INFO.
LOGGING["loggers"] |= {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}}

# --- verification ---
# Identity documents: a private storage (no URL; see verification/storage.py). For an
# S3-compatible bucket set VERIFICATION_STORAGE_BACKEND=storages.backends.s3.S3Storage
# and VERIFICATION_STORAGE_OPTIONS to django-storages' options as JSON, e.g.
# {"bucket_name": "onepanel-documents", "endpoint_url": "https://s3.example.com",
#  "default_acl": "private", "querystring_auth": true}.
STORAGES["verification"] = {
    "BACKEND": env.str(
        "VERIFICATION_STORAGE_BACKEND", default="verification.storage.PrivateFileSystemStorage"
    ),
    "OPTIONS": env.json(
        "VERIFICATION_STORAGE_OPTIONS",
        default={
            "location": str(env.path("VERIFICATION_STORAGE_DIR", default=BASE_DIR / "private"))
        },
    ),
}
VERIFICATION_MAX_UPLOAD_BYTES = env.int("VERIFICATION_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# More pixels than this is no phone photo: a decompression bomb is refused before decoding.
VERIFICATION_MAX_IMAGE_PIXELS = env.int("VERIFICATION_MAX_IMAGE_PIXELS", default=50_000_000)
# Days the pictures are kept after the decision; the decision record stays.
VERIFICATION_DOCUMENT_RETENTION_DAYS = env.int("VERIFICATION_DOCUMENT_RETENTION_DAYS", default=30)
# A new card without 3-D Secure of an already approved customer: "pay" or "verify".
VERIFICATION_APPROVED_CUSTOMER_NEW_CARD = env.str(
    "VERIFICATION_APPROVED_CUSTOMER_NEW_CARD", default="pay"
)
# A payment whose fraud score reaches this waits for review, even with 3-D Secure.
VERIFICATION_RISK_THRESHOLD = env.int("VERIFICATION_RISK_THRESHOLD", default=60)
# This many different cards tried within the window is a fraud signal.
VERIFICATION_CARD_ATTEMPTS_LIMIT = env.int("VERIFICATION_CARD_ATTEMPTS_LIMIT", default=3)
VERIFICATION_CARD_ATTEMPTS_MINUTES = env.int("VERIFICATION_CARD_ATTEMPTS_MINUTES", default=60)
# Proxies (CIDR ranges, e.g. Cloudflare's published ones) whose forwarding headers and
# CF-IPCountry are believed; a request from anywhere else is taken at its socket address.
VERIFICATION_TRUSTED_PROXIES = env_list("VERIFICATION_TRUSTED_PROXIES")
# A GeoLite2-Country (or -City) .mmdb file; the visitor's country when no trusted
# Cloudflare header gives it. Empty: no GeoIP lookup.
VERIFICATION_GEOIP_DATABASE = env.str("VERIFICATION_GEOIP_DATABASE", default="")
if VERIFICATION_APPROVED_CUSTOMER_NEW_CARD not in {"pay", "verify"}:
    raise ImproperlyConfigured("VERIFICATION_APPROVED_CUSTOMER_NEW_CARD must be pay or verify.")
CELERY_BEAT_SCHEDULE["verification-purge-documents"] = {
    "task": "verification.tasks.purge_decided_documents",
    "schedule": crontab(minute=47, hour=3),
}

# --- support ---
# Attachments are stored here through Django's storage API: a private location with no
# URL, served only by the download views (owner and staff). With several web machines,
# a private S3-compatible bucket: SUPPORT_ATTACHMENTS_STORAGE_BACKEND=
# storages.backends.s3.S3Storage and its options as JSON (docs/scaling.md).
SUPPORT_ATTACHMENTS_ROOT = env.path(
    "SUPPORT_ATTACHMENTS_ROOT", default=BASE_DIR / "private" / "support"
)
STORAGES["support_attachments"] = {
    "BACKEND": env.str(
        "SUPPORT_ATTACHMENTS_STORAGE_BACKEND", default="support.storage.PrivateFileSystemStorage"
    ),
    "OPTIONS": env.json(
        "SUPPORT_ATTACHMENTS_STORAGE_OPTIONS",
        default={"location": str(SUPPORT_ATTACHMENTS_ROOT)},
    ),
}
SUPPORT_ATTACHMENT_MAX_BYTES = env.int("SUPPORT_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
SUPPORT_ATTACHMENTS_PER_MESSAGE = env.int("SUPPORT_ATTACHMENTS_PER_MESSAGE", default=5)
# The address customers write to; replies carry support+<ticket>.<signature>@ its domain.
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@localhost")
# Mail from an address no customer has: "answer" (a polite one-time answer pointing to the
# client area) or "guest" (a guest ticket answered by email).
SUPPORT_UNKNOWN_SENDERS = env.str("SUPPORT_UNKNOWN_SENDERS", default="answer")
if SUPPORT_UNKNOWN_SENDERS not in {"answer", "guest"}:
    raise ImproperlyConfigured("SUPPORT_UNKNOWN_SENDERS must be 'answer' or 'guest'.")
# RFC 3834: at most one automatic answer per address in this many hours, and at most this
# many new tickets by email per address and hour (a mail loop stops there).
SUPPORT_AUTO_ANSWER_HOURS = env.int("SUPPORT_AUTO_ANSWER_HOURS", default=24)
SUPPORT_NEW_TICKETS_PER_ADDRESS_HOUR = env.int("SUPPORT_NEW_TICKETS_PER_ADDRESS_HOUR", default=10)
INSTALLED_APPS += ["anymail"]
# Inbound mail from a provider through django-anymail (docs/support.md).
ANYMAIL = {
    "MAILGUN_WEBHOOK_SIGNING_KEY": env_secret("MAILGUN_WEBHOOK_SIGNING_KEY"),
    "WEBHOOK_SECRET": env_secret("ANYMAIL_WEBHOOK_SECRET") or None,
}
# New tickets by email go to this department (by slug).
SUPPORT_EMAIL_DEPARTMENT = env.str("SUPPORT_EMAIL_DEPARTMENT", default="support")

# --- provisioning ---
# Fernet keys for panel API tokens and first passwords at rest (first encrypts, all decrypt).
PROVISIONING_ENCRYPTION_KEYS = fernet_keys("PROVISIONING_ENCRYPTION_KEYS", SECRET_KEY)
# Seconds one request to a panel may take.
PROVISIONING_TIMEOUT = env.float("PROVISIONING_TIMEOUT", default=30.0)
# New accounts get <username>.<this> until the customer points their own domain.
PROVISIONING_DEFAULT_DOMAIN = env.str("PROVISIONING_DEFAULT_DOMAIN", default="example.net")
CELERY_BEAT_SCHEDULE |= {
    "billing-cancellations": {
        "task": "billing.tasks.run_due_cancellations",
        "schedule": crontab(minute=30, hour=0),
    },
    "billing-terminate-overdue": {
        "task": "billing.tasks.terminate_overdue_services",
        "schedule": crontab(minute=40, hour=1),
    },
    "billing-refresh-usage": {
        "task": "billing.tasks.refresh_service_usage",
        "schedule": crontab(minute=50),
    },
}
