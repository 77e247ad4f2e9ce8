"""Run our own manage.py, or `python -c`, in a child process with an environment of the
test's choosing.

The children are forked from a warm parent (tests/forkserver.py), started once per test
process, that has imported the third-party packages every Django process of ours needs:
each child still starts from before settings are read, with only its own environment,
and answers as subprocess.run does. A request whose interpreter variables (PYTHON*, but
the two the child honours) differ from the parent's runs in a new interpreter instead,
since those act at start-up.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_parent: subprocess.Popen[str] | None = None


# Honoured by the forked child itself (tests/forkserver.py).
_HONOURED = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}


def _interpreter_variables(env: dict[str, str]) -> dict[str, str]:
    return {
        name: value
        for name, value in env.items()
        if name.startswith("PYTHON") and name not in _HONOURED
    }


@atexit.register
def _stop_parent() -> None:
    """Ends the parent (end of input) and reaps it, so its children's CPU time is counted."""
    global _parent
    if _parent is not None:
        if _parent.stdin is not None:
            _parent.stdin.close()
        try:
            _parent.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _parent.kill()
            _parent.wait()
        _parent = None


def _warm_parent() -> subprocess.Popen[str]:
    global _parent
    if _parent is None or _parent.poll() is not None:
        _parent = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(ROOT / "tests" / "forkserver.py")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    return _parent


def run_python(
    *argv: str, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """`python *argv` in ROOT: a script path and its arguments, or "-c" and code."""
    args = [sys.executable, *argv]
    if _interpreter_variables(env) != _interpreter_variables(dict(os.environ)):
        return subprocess.run(  # noqa: S603 - our own interpreter with fixed arguments
            args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    parent = _warm_parent()
    assert parent.stdin is not None and parent.stdout is not None
    request = {"argv": list(argv), "env": env, "cwd": str(ROOT), "timeout": timeout}
    try:
        parent.stdin.write(json.dumps(request) + "\n")
        parent.stdin.flush()
        line = parent.stdout.readline()
    except BaseException:
        # Interrupted mid-request: its reply must not answer the next one.
        parent.kill()
        _stop_parent()
        raise
    if not line:
        raise RuntimeError(f"tests/forkserver.py ended (status {parent.wait()}), see its stderr")
    reply = json.loads(line)
    if reply["timed_out"]:
        raise subprocess.TimeoutExpired(args, timeout, reply["stdout"], reply["stderr"])
    return subprocess.CompletedProcess(args, reply["returncode"], reply["stdout"], reply["stderr"])


def run_manage(
    *args: str, env: dict[str, str], timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return run_python("manage.py", *args, env=env, timeout=timeout)
