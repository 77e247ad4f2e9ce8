"""Test settings: real PostgreSQL and Redis, fast hashing, locmem mail."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onepanel")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The test databases are dropped at the end of the run: their commits need not wait for
# the WAL to reach the disk (6-7 ms a commit on the 2-core VM, 0.7 ms without;
# transactional tests commit ~100 times each: live-server requests, the flush's refill of
# content types and permissions, the cookie declaration). Visibility and locking are
# unchanged. libpq reads PGOPTIONS, so the servers a test starts (gunicorn, Celery
# workers, manage.py) inherit it too.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")
# Files a test run writes (support attachments, media, privacy exports, identity
# documents) go to folders of its own, never the project's: one per pytest-xdist worker
# of this run (PYTEST_XDIST_TESTRUNUID names the run, PYTEST_XDIST_WORKER the worker), or
# one for a run without xdist. The controller and each worker load these settings and
# the workers inherit the controller's environment, so a folder this module chose is
# replaced by the worker's own; one a developer set (outside the temporary folder) stays.
# Servers a test starts (gunicorn, a Celery worker) inherit the worker's variables and
# so use its folders.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:12] or os.environ.setdefault(
    "ONEPANEL_TEST_RUN", str(os.getpid())
)
_OURS = os.path.join(tempfile.gettempdir(), "onepanel-test-")
_FILES = f"{_OURS}{_RUN}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
for _name, _folder in (
    ("SUPPORT_ATTACHMENTS_ROOT", "support"),
    ("MEDIA_ROOT", "media"),
    ("PRIVACY_STORAGE_DIR", "exports"),
    ("VERIFICATION_STORAGE_DIR", "private"),
):
    if os.environ.get(_name, _OURS).startswith(_OURS):
        os.environ[_name] = os.path.join(_FILES, _folder)

from .base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run through a real worker only in the tests that start one.
CELERY_TASK_ALWAYS_EAGER = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Each process its own cache keys: tests clear only theirs (tests.helpers.clear_cache).
CACHES["default"]["KEY_PREFIX"] = f"onepanel-test-{os.getpid()}"  # noqa: F405
# Serve static files from the app folders, as runserver does, without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Text messages collect in notifications.sms.outbox, as emails do in mail.outbox.
SMS_BACKEND = "notifications.sms.LocmemBackend"
# Transactional tests empty the database with DELETE, not TRUNCATE: 0.08 s against 2.5 s
# per test on the 2-core machine (tests/pgflush/base.py says why).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["ENGINE"] = "tests.pgflush"  # noqa: F405
# A second database standing in for the read replica (tests/core/test_replica_router.py).
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "NAME": f"{DATABASES['default']['NAME']}_replica",  # noqa: F405
}
