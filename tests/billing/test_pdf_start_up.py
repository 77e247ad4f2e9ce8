"""WeasyPrint is loaded with the first invoice PDF, not with every Django process."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.commands import ROOT

LOADED = (
    "import sys, django; django.setup(); "
    "print(sorted(name for name in ('weasyprint',) if name in sys.modules))"
)


def test_a_django_process_starts_without_importing_weasyprint():
    # Every gunicorn, Celery and manage.py process loads the apps (privacy discovers
    # billing.personal_data, which renders invoice PDFs): WeasyPrint was 45% of that.
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", LOADED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
