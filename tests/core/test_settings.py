from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import mailers_from_url
from tests.commands import run_manage, run_python

GOOD_SECRET = "k3y-" + "x7Qp2Lm9Zr4Tv8Wn1Ys6Ub3Hc5Jd0Fg" * 2


def test_no_email_url_means_the_console_mailer():
    assert mailers_from_url("") == {"default": {"BACKEND": "core.mail.ReadableConsoleEmailBackend"}}


def test_an_smtp_url_with_starttls_and_credentials():
    options = mailers_from_url("smtp+tls://mailer%40example.com:p%40ss@mail.example.com:2525")[
        "default"
    ]["OPTIONS"]

    assert options == {
        "host": "mail.example.com",
        "port": 2525,
        "use_tls": True,
        "use_ssl": False,
        "timeout": 10,
        "username": "mailer@example.com",
        "password": "p@ss",
    }


def test_implicit_tls_defaults_to_port_465():
    options = mailers_from_url("smtps://mail.example.com")["default"]["OPTIONS"]

    assert (options["port"], options["use_ssl"], options["use_tls"]) == (465, True, False)
    assert "username" not in options


def test_an_unknown_email_scheme_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        mailers_from_url("imap://mail.example.com")


def _production_env(**overrides: str | None) -> dict[str, str]:
    env: dict[str, str | None] = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": GOOD_SECRET,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "billing.example.com",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/onepanel"
        ),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
        "MFA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DOCUMENT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PROVISIONING_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "EMAIL_URL": "smtp+tls://mailer:secret@mail.example.com:587",
        "SITE_URL": "https://billing.example.com",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is the embedded default"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is the embedded default or too weak"),
        ({"MFA_ENCRYPTION_KEYS": ""}, "MFA_ENCRYPTION_KEYS is not set"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is not set"),
        ({"EMAIL_URL": ""}, "EMAIL_URL is not set"),
        ({"SITE_URL": "http://billing.example.com"}, "SITE_URL must be the public https"),
        ({"PRIVACY_CONSENT_MAX_AGE_DAYS": "730"}, "PRIVACY_CONSENT_MAX_AGE_DAYS must be"),
        ({"PRIVACY_CONSENT_MAX_AGE_DAYS": "0"}, "PRIVACY_CONSENT_MAX_AGE_DAYS must be"),
        ({"PRIVACY_TECHNICAL_DATA_DAYS": "-5"}, "PRIVACY_TECHNICAL_DATA_DAYS must be"),
    ],
)
def test_production_refuses_to_start_unsafely(overrides, message):
    result = run_manage("check", env=_production_env(**overrides))

    assert result.returncode != 0
    assert message in result.stderr


def test_demo_data_is_refused_under_production_settings():
    result = run_manage("seed_demo", env=_production_env())

    assert result.returncode != 0
    assert "embedded default only" in result.stderr


def test_secrets_can_come_from_docker_secret_files(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(GOOD_SECRET + "\n")

    result = run_manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env=_production_env(SECRET_KEY="", SECRET_KEY_FILE=str(secret_file)),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_SECRET


def test_the_embedded_default_needs_no_environment(tmp_path):
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.CACHES['default']['BACKEND'], s.MAILERS['default']['BACKEND'])"
    )

    result = run_manage("shell", "--verbosity=0", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "True",
        "django.core.cache.backends.locmem.LocMemCache",
        "core.mail.ReadableConsoleEmailBackend",
    ]


def test_with_database_and_redis_urls_it_runs_on_postgres_redis_and_workers():
    env = _production_env(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="true")
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
        "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL.split(':')[0])"
    )

    result = run_manage("shell", "--verbosity=0", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "core.cache.FailSoftRedisCache",
        "redis",
    ]


def test_the_embedded_default_has_a_demo_operator_address_and_production_none(tmp_path):
    code = "from django.conf import settings as s; print(repr(s.OPERATOR_ADDRESS))"
    embedded = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    demo = run_manage("shell", "--verbosity=0", "-c", code, env=embedded)
    real = run_manage("shell", "--verbosity=0", "-c", code, env=_production_env())

    assert demo.returncode == 0, demo.stderr
    assert "1 Example Street" in demo.stdout
    assert real.returncode == 0, real.stderr
    assert real.stdout.strip() == "''"


def _test_settings_paths(**env: str) -> list[str]:
    """The folders config.settings.test picks under `env`, as a new process reads them.
    Only the settings module is read, without the apps manage.py would load."""
    code = (
        "from django.conf import settings as s; "
        "print(s.SUPPORT_ATTACHMENTS_ROOT, s.MEDIA_ROOT, "
        "s.STORAGES['privacy']['OPTIONS']['location'], "
        "s.STORAGES['verification']['OPTIONS']['location'])"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "ONEPANEL"))}
    for name in (
        "SUPPORT_ATTACHMENTS_ROOT",
        "MEDIA_ROOT",
        "PRIVACY_STORAGE_DIR",
        "VERIFICATION_STORAGE_DIR",
    ):
        base.pop(name, None)
    result = run_python(
        "-c", code, env=base | {"DJANGO_SETTINGS_MODULE": "config.settings.test"} | env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_each_xdist_worker_writes_files_to_folders_of_its_own():
    # A worker inherits the controller's environment, folders chosen for "main" included.
    controller = _test_settings_paths(ONEPANEL_TEST_RUN="1234")
    run = {"PYTEST_XDIST_TESTRUNUID": "abcdef123456789"}
    inherited = dict(zip(["SUPPORT_ATTACHMENTS_ROOT", "MEDIA_ROOT"], controller, strict=False))

    gw0 = _test_settings_paths(**run, **inherited, PYTEST_XDIST_WORKER="gw0")
    gw1 = _test_settings_paths(**run, **inherited, PYTEST_XDIST_WORKER="gw1")

    assert all("onepanel-test-1234-main" in path for path in controller)
    assert all("onepanel-test-abcdef123456-gw0" in path for path in gw0)
    assert all("onepanel-test-abcdef123456-gw1" in path for path in gw1)
    assert len({*controller, *gw0, *gw1}) == 12


def test_a_folder_the_developer_chose_is_kept(tmp_path):
    [support, *_] = _test_settings_paths(
        SUPPORT_ATTACHMENTS_ROOT=str(tmp_path), PYTEST_XDIST_WORKER="gw1"
    )

    assert support == str(tmp_path)
