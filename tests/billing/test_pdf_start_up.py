"""WeasyPrint is loaded with the first invoice PDF, not with every Django process."""

from __future__ import annotations

import os

from tests.commands import run_python

LOADED = (
    "import sys, django; django.setup(); "
    "print(sorted(name for name in ('weasyprint',) if name in sys.modules))"
)


def test_a_django_process_starts_without_importing_weasyprint():
    # Every gunicorn, Celery and manage.py process loads the apps (privacy discovers
    # billing.personal_data, which renders invoice PDFs): WeasyPrint was 45% of that.
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    result = run_python("-c", LOADED, env=env, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
