"""The throwaway servers `make soak` starts on loopback (benchmarks/soak.py): a PostgreSQL
cluster of its own, a redis-server, an SMTP sink counting Message-IDs, localstripe's
start-up script, and a supervisor that restarts the Celery worker as compose would."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
LOCALSTRIPE = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Nothing answers on 127.0.0.1:{port}.")


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Postgres:
    """A throwaway cluster in a temporary directory, run as the postgres user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "pg"
        self.port = free_port()

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)  # noqa: S603

    def start(self) -> None:
        self.directory.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            shutil.chown(self.directory.parent, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.directory),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.pg_ctl("start")
        wait_for_port(self.port)
        self._run(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "onepanel_soak",
        )

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.directory),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            options,
            "-m",
            "fast",
            "-w",
            action,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/onepanel_soak"

    def stop(self) -> None:
        if (self.directory / "postmaster.pid").exists():
            self.pg_ctl("stop")


class Redis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("make soak needs redis-server: apt-get install -y redis-server")
        self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class Sink:
    """An SMTP server counting each Message-ID it accepts."""

    ids: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        match = re.search(rb"^Message-ID:\s*(<[^>]+>)", envelope.content, re.M | re.I)
        with self.lock:
            self.ids[match.group(1).decode() if match else "?"] += 1
        return "250 OK"


class Supervised:
    """A process restarted whenever it exits, as compose's `restart: unless-stopped` or
    systemd would; counts the restarts."""

    def __init__(self, command: list[str], *, log: Path) -> None:
        self.command = command
        self.log = log.open("a")
        self.restarts = 0
        self.stopping = threading.Event()
        self.process = self._start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own binary and arguments
            self.command,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            if self.process.poll() is not None:
                self.restarts += 1
                log(f"the worker exited ({self.process.returncode}); restarting it")
                self.process = self._start()

    def stop(self) -> None:
        self.stopping.set()
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_children(worker: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []
