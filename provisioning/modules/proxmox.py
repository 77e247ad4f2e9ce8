"""Proxmox VE virtual machines through proxmoxer (which speaks HTTPS with requests).

A new VM is a full clone of the product's template, named after its reference so a
second create finds it instead of cloning again; then cores and memory are set,
the disk grown, cloud-init given the login, and the VM started. Clone, start, stop
and delete are asynchronous in Proxmox: they return a UPID, polled at
/nodes/{node}/tasks/{upid}/status until `status` is "stopped"; `exitstatus` "OK"
means it worked. Suspending stops the VM, unsuspending starts it.

Connection: username "user@realm!tokenname", secret the token's value, options
{"node": "pve1"}. Product options: template (VMID), cores, memory (MB), disk (GB),
disk_name (scsi0), username (root).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import requests
from proxmoxer import ProxmoxAPI, ResourceException

from .base import AccountSpec, Created, Metric, Module, ModuleError, transport_error

PVE_PORT = 8006
GONE = ("does not exist", "no such vm")


class ProxmoxModule(Module):
    name = "proxmox"
    label = "Proxmox VE"
    has_usage = True

    def __init__(self, connection: Any, session: requests.Session | None = None) -> None:
        super().__init__(connection, session)
        user, _, token_name = connection.username.partition("!")
        if not token_name:
            raise ModuleError("The Proxmox username must be user@realm!tokenname.", permanent=True)
        self.api = ProxmoxAPI(
            connection.hostname,
            port=connection.port or PVE_PORT,
            user=user,
            token_name=token_name,
            token_value=connection.secret,
            verify_ssl=connection.verify_tls,
            timeout=connection.timeout,
        )
        self.api._store["session"].hooks["response"].append(self._record)
        self.node = str(connection.options.get("node", ""))
        self.poll_interval = float(connection.options.get("poll_interval", 2))
        self.task_timeout = float(connection.options.get("task_timeout", 600))

    def _do(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except ResourceException as exc:
            # Proxmox puts its message in the status line (proxmoxer's `content`) and,
            # for JSON, in the body's "message", which proxmoxer drops: read it back
            # from the exchange just recorded.
            detail = f"{exc.status_message}: {exc.content} {exc.errors or ''}".strip()
            if self.exchanges:
                try:
                    detail += " " + str(json.loads(self.exchanges[-1].response).get("message", ""))
                except (ValueError, AttributeError):
                    pass
            transient = exc.status_code >= 500 and not _is_gone(detail)
            if exc.status_code in (401, 403):
                raise ModuleError("Proxmox refused the API token.", permanent=True) from exc
            raise ModuleError(f"Proxmox: {detail[:300]}", permanent=not transient) from exc
        except requests.RequestException as exc:
            raise transport_error(exc) from exc

    def _wait(self, upid: str) -> None:
        """Polls a task until it stops; a failed task is a permanent error."""
        deadline = time.monotonic() + self.task_timeout
        while True:
            status = self._do(self.api.nodes(self.node).tasks(upid).status.get)
            if status.get("status") == "stopped":
                if status.get("exitstatus") != "OK":
                    raise ModuleError(
                        f"Proxmox task failed: {status.get('exitstatus')}", permanent=True
                    )
                return
            if time.monotonic() > deadline:
                raise ModuleError("The Proxmox task is still running.", permanent=False)
            time.sleep(self.poll_interval)

    def _vm(self, vmid: str) -> Any:
        return self.api.nodes(self.node).qemu(vmid)

    def _vm_name(self, account: AccountSpec) -> str:
        return f"op-{account.reference}"

    def _find(self, account: AccountSpec) -> str:
        name = self._vm_name(account)
        for vm in self._do(self.api.cluster.resources.get, type="vm"):
            if vm.get("name") == name:
                return str(vm["vmid"])
        return ""

    def test_connection(self) -> str:
        version = self._do(self.api.version.get)
        return f"Proxmox VE {version.get('version', '')}".strip()

    def create(self, account: AccountSpec) -> Created:
        options = account.options
        if not options.get("template"):
            raise ModuleError("The product names no Proxmox template.", permanent=True)
        vmid = account.remote_id or self._find(account)
        if not vmid:
            vmid = str(self._do(self.api.cluster.nextid.get))
            upid = self._do(
                self.api.nodes(self.node).qemu(options["template"]).clone.post,
                newid=vmid,
                name=self._vm_name(account),
                full=1,
            )
            self._wait(upid)
        username = str(options.get("username", "root"))
        password = secrets.token_urlsafe(18)
        self._configure(vmid, account, ciuser=username, cipassword=password)
        if self._do(self._vm(vmid).status.current.get).get("status") != "running":
            self._wait(self._do(self._vm(vmid).status.start.post))
        return Created(username=username, password=password, remote_id=vmid)

    def _configure(self, vmid: str, account: AccountSpec, **extra: str) -> None:
        options = account.options
        config = {key: options[key] for key in ("cores", "memory") if key in options}
        self._do(self._vm(vmid).config.post, **config, **extra)
        if options.get("disk"):
            disk = str(options.get("disk_name", "scsi0"))
            current = self._do(self._vm(vmid).config.get).get(disk, "")
            have = _size_gb(current)
            want = int(options["disk"])
            if have is not None and want < have:
                raise ModuleError("Proxmox disks cannot shrink.", permanent=True)
            if have != want:
                self._do(self._vm(vmid).resize.put, disk=disk, size=f"{want}G")

    def suspend(self, account: AccountSpec, reason: str) -> None:
        if self._status(account) == "running":
            self._wait(self._do(self._vm(account.remote_id).status.stop.post))

    def unsuspend(self, account: AccountSpec) -> None:
        if self._status(account) != "running":
            self._wait(self._do(self._vm(account.remote_id).status.start.post))

    def terminate(self, account: AccountSpec) -> None:
        status = self._status(account)
        if status == "":
            return
        if status == "running":
            self._wait(self._do(self._vm(account.remote_id).status.stop.post))
        try:
            self._wait(self._do(self._vm(account.remote_id).delete, purge=1))
        except ModuleError as exc:
            if not _is_gone(exc.message):
                raise

    def change_package(self, account: AccountSpec) -> None:
        self._configure(account.remote_id, account)

    def usage(self, account: AccountSpec) -> list[Metric]:
        current = self._do(self._vm(account.remote_id).status.current.get)
        mib = 1024 * 1024
        return [
            Metric(
                label="CPU",
                used=round(float(current.get("cpu", 0)) * 100, 1),
                limit=100.0,
                unit="%",
            ),
            Metric(
                label="Memory",
                used=round(current.get("mem", 0) / mib),
                limit=round(current.get("maxmem", 0) / mib) or None,
                unit="MB",
            ),
        ]

    def _status(self, account: AccountSpec) -> str:
        """The VM's state, "" when it no longer exists."""
        if not account.remote_id:
            return ""
        try:
            return str(self._do(self._vm(account.remote_id).status.current.get).get("status"))
        except ModuleError as exc:
            if _is_gone(exc.message):
                return ""
            raise


def _is_gone(detail: str) -> bool:
    return any(marker in detail.lower() for marker in GONE)


def _size_gb(disk_config: str) -> int | None:
    """The size in a disk line ("local-lvm:vm-105-disk-0,size=10G")."""
    for part in disk_config.split(","):
        if part.startswith("size="):
            size = part.removeprefix("size=")
            if size.endswith("G"):
                return int(float(size[:-1]))
            if size.endswith("T"):
                return int(float(size[:-1]) * 1024)
            if size.endswith("M"):
                return int(float(size[:-1]) // 1024)
    return None
