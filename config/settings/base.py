"""OnePanel settings, read once from the environment.

With no environment at all the app runs on an embedded default: SQLite, a
local-memory cache, and Celery tasks executed in-process. Setting DATABASE_URL
and REDIS_URL moves it onto PostgreSQL, a Redis cache and real workers.

The settings are in parts: config/settings/environment.py reads the environment,
config/settings/framework.py holds Django's own settings and the platform (database,
cache, sign-in, email, security headers, Celery, logging), and this module adds each
app's settings. Test, bench and production settings start with `from .base import *`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .framework import *  # noqa: F403
from .framework import (
    BASE_DIR,
    CELERY_BEAT_SCHEDULE,
    DEMO_DATA_ALLOWED,
    INSTALLED_APPS,
    LOGGING,
    MIDDLEWARE,
    PERMISSIONS_POLICY,
    SECRET_KEY,
    SECURE_CSP,
    SITE_NAME,
    STORAGES,
    STRIPE_API_BASE,
    TEMPLATES,
    TWILIO_ACCOUNT_SID,
    env,
    env_list,
    env_secret,
    fernet_keys,
)

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
