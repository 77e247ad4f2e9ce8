"""The attack run: OnePanel under config.settings.production, served by gunicorn with
config/gunicorn.py on loopback, against the test database, a Redis of its own and an
SMTP catcher; each test replays cases of an attack run (issue 8) over real HTTP.

Requests carry X-Forwarded-Proto: https, as from the TLS proxy production sits behind,
and X-Forwarded-For with one trusted proxy, so a test can speak from several addresses.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.helpers import free_port
from tests.servers import RedisServer, SmtpRecorder

from .stack import STRIPE_WEBHOOK_SECRET, TWILIO_AUTH_TOKEN, App

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _production_env(*, port: int, redis_url: str, smtp_port: int) -> dict[str, str]:
    db = connection.settings_dict
    return {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "MFA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DOCUMENT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PROVISIONING_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=2",
        "ALLAUTH_TRUSTED_PROXY_COUNT": "1",
        "STRIPE_SECRET_KEY": "sk_test_attack",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_attack",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
        "SMS_BACKEND": "notifications.sms.ConsoleBackend",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        # The attack run logs as JSON lines (issue 15): tests read and parse them.
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def _static_files() -> None:
    """Under DEBUG=false production's storage (whitenoise's CompressedManifestStaticFiles
    Storage) needs collectstatic's manifest before any page. Collected here by Django's
    ManifestStaticFilesStorage, which whitenoise's extends: the same files, hashed names
    and staticfiles.json, without the gzip and Brotli copy of each of some 600 files
    (10 s of CPU on the 2-core machine), which no attack test fetches."""
    manifest = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": manifest}}):
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, _static_files) -> Iterator[App]:
    port = free_port()
    redis = RedisServer(free_port())
    redis.start()
    smtp = SmtpRecorder()
    smtp_port = free_port()
    controller = Controller(smtp, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    with django_db_blocker.unblock():
        env = _production_env(port=port, redis_url=redis.url, smtp_port=smtp_port)
    process = subprocess.Popen(  # noqa: S603 (our own binary and arguments)
        [str(GUNICORN), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = App(url=f"http://127.0.0.1:{port}", env=env, redis=redis, smtp=smtp, process=process)

    def read() -> None:
        assert process.stdout
        for line in process.stdout:
            running.output.append(line)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(running.url + "/", timeout=10, headers={"X-Forwarded-Proto": "https"})
            break
        except requests.RequestException:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    else:
        process.kill()
    if process.poll() is not None:
        pytest.fail("gunicorn did not start:\n" + running.log())
    try:
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        controller.stop()
        redis.stop()


@pytest.fixture(autouse=True)
def _migration_data(transactional_db) -> None:
    """The transactional database is emptied after each test, migration data included:
    declare the cookie groups and first policy versions again (idempotent)."""
    from django.apps import apps

    importlib.import_module("privacy.migrations.0002_declare_cookies_and_first_documents").declare(
        apps, None
    )
