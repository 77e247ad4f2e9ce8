"""Production settings: the base settings plus HTTPS hardening, and refusals.

The process refuses to start with DEBUG on, with the embedded default secret,
or without its own encryption keys, so a misconfigured deployment fails at
boot instead of running unsafely.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEBUG, DEFAULT_SECRET_KEY, SECRET_KEY, SITE_URL, env, env_list, env_secret

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production: set DEBUG=false.")
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY is the embedded default or too weak: set a random value of 50+ characters."
    )
for _name in ("MFA_ENCRYPTION_KEYS", "DOCUMENT_ENCRYPTION_KEYS", "PROVISIONING_ENCRYPTION_KEYS"):
    if not env_list(_name):
        raise ImproperlyConfigured(
            f"{_name} is not set: give one or more Fernet keys, comma-separated. "
            "Make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
if not env_secret("EMAIL_URL"):
    raise ImproperlyConfigured(
        "EMAIL_URL is not set: give the SMTP server, e.g. smtp+tls://user:password@host:587."
    )
if not env_list("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set: list the host names this site answers.")

SECURE_SSL_REDIRECT: bool = env.bool("SECURE_SSL_REDIRECT", default=True)
if SECURE_SSL_REDIRECT and not SITE_URL.startswith("https://"):
    # Emails (unsubscribe links) and Twilio's signatures use SITE_URL: it must be what
    # customers and providers really reach.
    raise ImproperlyConfigured(
        f"SITE_URL must be the public https address (it is {SITE_URL!r}); "
        "only a stack without TLS (SECURE_SSL_REDIRECT=false) may use http."
    )
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS: int = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS: bool = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD: bool = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
DEMO_DATA_ALLOWED = False
# No demo address on real email: marketing campaigns refuse to go without OPERATOR_ADDRESS.
OPERATOR_ADDRESS = env.str("OPERATOR_ADDRESS", default="")
BILLING_SELLER_ADDRESS = env.str("BILLING_SELLER_ADDRESS", default=OPERATOR_ADDRESS)
BILLING_SELLER_VAT_NUMBER = env.str("BILLING_SELLER_VAT_NUMBER", default="")
BILLING_SELLER_COMPANY_NUMBER = env.str("BILLING_SELLER_COMPANY_NUMBER", default="")
ADMIN_REQUIRE_MFA = True
