"""A warm parent for the tests' Python child processes (tests/commands.py starts one per
test process and sends it every run_python / run_manage request).

A Django process of ours spends most of its start importing third-party packages
(Django, Celery, kombu, redis, stripe, aiohttp, pypdf...). This process imports them once,
then forks a child per request: the child takes the request's environment, folder, argv
and standard streams, and runs `python manage.py ...` or `python -c ...` as a new
interpreter would, from before settings are read: no settings module, no app, no
connection exists yet in it. Its exit status, stdout and stderr are returned as the
subprocess module would return them.

PRELOAD lists only modules that read neither Django settings nor the environment when
imported, and never one a test asserts a start does not load (weasyprint,
tests/billing/test_pdf_start_up.py; our own apps' modules, tests/core/test_queue.py).

Protocol: one JSON request a line on stdin ({"argv", "env", "cwd", "timeout"}), one JSON
reply a line on the original stdout ({"returncode", "stdout", "stderr", "timed_out"}).
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import linecache
import os
import runpy
import select
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
from typing import Any, NoReturn

PRELOAD = (
    "django.core.cache.backends.redis",
    "django.core.mail.backends.smtp",
    "django.core.management",
    "django.db.migrations",
    "django.db.models",
    "django.db.backends.postgresql.base",
    "django.db.backends.sqlite3.base",
    "django.http",
    "django.middleware.csrf",
    "django.shortcuts",
    "django.test",
    "celery.app",
    "celery.canvas",
    "celery.worker",
    "kombu",
    "redis",
    "stripe",
    "stripe.params",
    "pypdf",
    "PIL.Image",
    "phonenumbers",
    "html2text",
    "cryptography.fernet",
    "psycopg_pool",
    "ua_parser",
    "twilio.rest",
    "markdown",
    "geoip2.database",
    "xml.sax",
    # What django.setup() in a child imported besides our own apps (50 ms of its 270).
    "django.contrib.admin",
    "django.tasks.base",
    "django_countries.fields",
    "django_stubs_ext",
    "disposable_email_domains",
    "phonenumber_field.modelfields",
    "whitenoise.middleware",
    "python_ipware",
    "mailparser_reply",
    "pythonjsonlogger.json",
    "environ",
    "nh3",
)

_OWN_FRAMES = {__file__, runpy.__file__, "<frozen runpy>"}


def _exit_code(code: object) -> int:
    """What the interpreter makes of sys.exit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run(argv: list[str]) -> int:
    if argv[0] == "-c":
        sys.argv = ["-c", *argv[2:]]
        sys.path[0] = ""
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main
        # As python -c does, so that a traceback quotes the code's lines.
        linecache.cache["<string>"] = (len(argv[1]), None, argv[1].splitlines(True), "<string>")
        exec(compile(argv[1], "<string>", "exec"), main.__dict__)  # noqa: S102 - the test's own code
    else:
        sys.argv = list(argv)
        script = os.path.abspath(argv[0])
        sys.path[0] = os.path.dirname(script)
        runpy.run_path(script, run_name="__main__")
    return 0


def _print_traceback(error: BaseException) -> None:
    """The traceback a new interpreter prints: from the script's first frame, without
    this module's and runpy's."""
    frame = error.__traceback__
    while frame is not None and frame.tb_frame.f_code.co_filename in _OWN_FRAMES:
        frame = frame.tb_next
    traceback.print_exception(type(error), error, frame)


def _coerce_locale() -> None:
    """What the interpreter does at start-up in the C locale (PEP 538)."""
    if os.environ.get("LC_ALL") or os.environ.get("PYTHONCOERCECLOCALE") == "0":
        return
    if (os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C") in {"C", "POSIX"}:
        os.environ["LC_CTYPE"] = "C.UTF-8"


def _child(request: dict[str, Any], out: int, err: int, replies: int) -> NoReturn:
    os.close(replies)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.environ.clear()
    os.environ.update(request["env"])
    _coerce_locale()
    time.tzset()
    tempfile.tempdir = None  # gettempdir() reads the child's TMPDIR again
    os.chdir(request["cwd"])
    # The two interpreter variables a warm parent can honour (tests/commands.py runs any
    # other difference in PYTHON* variables in a new interpreter).
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    buffered = not os.environ.get("PYTHONUNBUFFERED")
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the child's own stdin, /dev/null
    sys.stdout, sys.stderr = (
        io.TextIOWrapper(
            open(fd, "wb", buffering=-1 if buffered else 0, closefd=False),  # noqa: SIM115
            errors=errors,
            line_buffering=buffered and fd == 2,
            write_through=not buffered,
        )
        for fd, errors in ((1, "strict"), (2, "backslashreplace"))
    )
    try:
        code = _run(request["argv"])
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException as error:
        _print_traceback(error)
        code = 1
    # As the interpreter does at exit: wait for the other threads, run atexit hooks.
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _serve(request: dict[str, Any], replies: int) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            _child(request, out.fileno(), err.fileno(), replies)
        pidfd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([pidfd], [], [], request["timeout"])
            timed_out = not ready
            if timed_out:
                os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(pidfd)
        texts = []
        for stream in (out, err):
            stream.seek(0)
            texts.append(stream.read().decode(errors="replace"))
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "stdout": texts[0],
        "stderr": texts[1],
        "timed_out": timed_out,
    }


def main() -> None:
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # a print from an import must not land in the replies
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        replies.write(json.dumps(_serve(json.loads(line), replies.fileno())) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
