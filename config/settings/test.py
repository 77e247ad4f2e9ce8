"""Test settings: real PostgreSQL and Redis, fast hashing, locmem mail."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onepanel")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# Support attachments of one test run go to a folder of their own, never the project's.
os.environ.setdefault(
    "SUPPORT_ATTACHMENTS_ROOT",
    os.path.join(tempfile.gettempdir(), f"onepanel-test-support-{os.getpid()}"),
)

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run through a real worker only in the tests that start one.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"onepanel-test-{os.getpid()}"  # noqa: F405
# Serve static files from the app folders, as runserver does, without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Text messages collect in notifications.sms.outbox, as emails do in mail.outbox.
SMS_BACKEND = "notifications.sms.LocmemBackend"
# A second database standing in for the read replica (tests/core/test_replica_router.py).
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "NAME": f"{DATABASES['default']['NAME']}_replica",  # noqa: F405
}
