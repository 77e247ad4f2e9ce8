"""The Proxmox VE module through proxmoxer over `responses`: API shapes from the PVE API
viewer ({"data": ...}; asynchronous calls return a UPID polled to completion)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import requests
import responses
from responses import matchers

from provisioning.modules.base import AccountSpec, ModuleError
from provisioning.modules.proxmox import ProxmoxModule
from tests.helpers import PVE_TOKEN

API = "https://pve.example.com:8006/api2/json"
AUTH = {"Authorization": f"PVEAPIToken=root@pam!onepanel={PVE_TOKEN}"}
NODE = f"{API}/nodes/pve1"


def upid(kind: str, vmid: int) -> str:
    return f"UPID:pve1:0000ABCD:0012F00D:6567A1B2:{kind}:{vmid}:root@pam!onepanel:"


def task_status(kind: str, vmid: int, *replies: Mapping[str, object]) -> None:
    for reply in replies:
        responses.get(f"{NODE}/tasks/{upid(kind, vmid)}/status", json={"data": reply})


RUNNING = {"status": "running", "type": "qmclone", "node": "pve1"}
DONE = {"status": "stopped", "exitstatus": "OK", "node": "pve1"}


@pytest.fixture
def vm_spec(spec) -> AccountSpec:
    return AccountSpec(
        **{**spec.__dict__, "options": {"template": 9000, "cores": 2, "memory": 2048, "disk": 40}}
    )


@responses.activate
def test_it_clones_the_template_polls_the_task_configures_grows_the_disk_and_starts(
    pve_connection, vm_spec
):
    responses.get(
        f"{API}/cluster/resources", json={"data": []}, match=[matchers.header_matcher(AUTH)]
    )
    responses.get(f"{API}/cluster/nextid", json={"data": "105"})
    responses.post(
        f"{NODE}/qemu/9000/clone",
        json={"data": upid("qmclone", 105)},
        match=[
            matchers.urlencoded_params_matcher(
                {"newid": "105", "name": "op-service-12", "full": "1"}
            )
        ],
    )
    task_status("qmclone", 105, RUNNING, RUNNING, DONE)
    responses.post(f"{NODE}/qemu/105/config", json={"data": None})
    responses.get(
        f"{NODE}/qemu/105/config", json={"data": {"scsi0": "local-lvm:vm-105-disk-0,size=10G"}}
    )
    responses.put(
        f"{NODE}/qemu/105/resize",
        json={"data": None},
        match=[matchers.urlencoded_params_matcher({"disk": "scsi0", "size": "40G"})],
    )
    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "stopped"}})
    responses.post(f"{NODE}/qemu/105/status/start", json={"data": upid("qmstart", 105)})
    task_status("qmstart", 105, DONE)

    module = ProxmoxModule(pve_connection)
    created = module.create(vm_spec)

    assert created.remote_id == "105" and created.username == "root" and created.password
    config = [
        c
        for c in responses.calls
        if c.request.method == "POST" and c.request.url.endswith("/config")
    ]
    body = str(config[0].request.body)
    assert "cores=2" in body and "memory=2048" in body and "ciuser=root" in body
    # The log keeps the calls, never the token or the cloud-init password.
    logged = str(module.exchanges)
    assert PVE_TOKEN not in logged and created.password not in logged
    assert sum(1 for e in module.exchanges if "/tasks/" in e.url) == 4


@responses.activate
def test_a_second_create_reuses_the_vm_it_finds_by_name(pve_connection, vm_spec):
    responses.get(
        f"{API}/cluster/resources",
        json={"data": [{"vmid": 105, "name": "op-service-12", "node": "pve1", "type": "qemu"}]},
    )
    responses.post(f"{NODE}/qemu/105/config", json={"data": None})
    responses.get(
        f"{NODE}/qemu/105/config", json={"data": {"scsi0": "local-lvm:vm-105-disk-0,size=40G"}}
    )
    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "running"}})

    created = ProxmoxModule(pve_connection).create(vm_spec)

    assert created.remote_id == "105"
    urls = [str(c.request.url) for c in responses.calls]
    assert not any("/clone" in url or "/resize" in url for url in urls)


@responses.activate
def test_a_failed_task_is_a_permanent_error_with_its_exit_status(pve_connection, vm_spec):
    responses.get(f"{API}/cluster/resources", json={"data": []})
    responses.get(f"{API}/cluster/nextid", json={"data": "106"})
    responses.post(f"{NODE}/qemu/9000/clone", json={"data": upid("qmclone", 106)})
    task_status("qmclone", 106, {"status": "stopped", "exitstatus": "storage 'local-lvm' is full"})

    with pytest.raises(ModuleError) as caught:
        ProxmoxModule(pve_connection).create(vm_spec)
    assert caught.value.permanent and "is full" in caught.value.message


@responses.activate
def test_suspend_stops_and_unsuspend_starts_the_vm(pve_connection, vm_spec):
    spec = AccountSpec(**{**vm_spec.__dict__, "remote_id": "105"})
    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "running"}})
    responses.post(f"{NODE}/qemu/105/status/stop", json={"data": upid("qmstop", 105)})
    task_status("qmstop", 105, DONE)
    ProxmoxModule(pve_connection).suspend(spec, "overdue")

    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "stopped"}})
    responses.post(f"{NODE}/qemu/105/status/start", json={"data": upid("qmstart", 105)})
    task_status("qmstart", 105, DONE)
    ProxmoxModule(pve_connection).unsuspend(spec)

    assert [
        c.request.url.rsplit("/", 1)[-1] for c in responses.calls if c.request.method == "POST"
    ] == [
        "stop",
        "start",
    ]


@responses.activate
def test_terminate_stops_and_deletes_and_a_vm_already_gone_is_fine(pve_connection, vm_spec):
    spec = AccountSpec(**{**vm_spec.__dict__, "remote_id": "105"})
    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "stopped"}})
    responses.delete(
        f"{NODE}/qemu/105",
        json={"data": upid("qmdestroy", 105)},
        match=[matchers.query_param_matcher({"purge": "1"})],
    )
    task_status("qmdestroy", 105, DONE)
    ProxmoxModule(pve_connection).terminate(spec)

    responses.reset()
    responses.get(
        f"{NODE}/qemu/105/status/current",
        status=500,
        json={
            "data": None,
            "message": "Configuration file 'nodes/pve1/qemu-server/105.conf' does not exist\n",
        },
    )
    ProxmoxModule(pve_connection).terminate(spec)  # nothing left to delete


@responses.activate
def test_a_disk_never_shrinks_on_a_downgrade(pve_connection, vm_spec):
    spec = AccountSpec(
        **{**vm_spec.__dict__, "remote_id": "105", "options": {"disk": 20, "cores": 1}}
    )
    responses.post(f"{NODE}/qemu/105/config", json={"data": None})
    responses.get(
        f"{NODE}/qemu/105/config", json={"data": {"scsi0": "local-lvm:vm-105-disk-0,size=40G"}}
    )
    with pytest.raises(ModuleError) as caught:
        ProxmoxModule(pve_connection).change_package(spec)
    assert caught.value.permanent


@responses.activate
@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ({"body": requests.exceptions.ConnectTimeout("timed out")}, False),
        ({"status": 595, "json": {"data": None}}, False),
        ({"status": 401, "json": {"data": None}}, True),
        (
            {
                "status": 400,
                "json": {
                    "data": None,
                    "errors": {"type": "value 'x' does not look like a valid VM type"},
                },
            },
            True,
        ),
    ],
)
def test_errors_carry_the_right_flag(pve_connection, reply, permanent):
    responses.get(f"{API}/version", **reply)
    with pytest.raises(ModuleError) as caught:
        ProxmoxModule(pve_connection).test_connection()
    assert caught.value.permanent is permanent


@responses.activate
def test_a_task_still_running_after_the_limit_is_transient(pve_connection, vm_spec):
    spec = AccountSpec(**{**vm_spec.__dict__, "remote_id": "105"})
    responses.get(f"{NODE}/qemu/105/status/current", json={"data": {"status": "stopped"}})
    responses.post(f"{NODE}/qemu/105/status/start", json={"data": upid("qmstart", 105)})
    responses.get(f"{NODE}/tasks/{upid('qmstart', 105)}/status", json={"data": RUNNING})
    module = ProxmoxModule(pve_connection)
    module.task_timeout = 0
    with pytest.raises(ModuleError) as caught:
        module.unsuspend(spec)
    assert caught.value.permanent is False


@responses.activate
def test_usage_reads_the_vms_current_status(pve_connection, vm_spec):
    spec = AccountSpec(**{**vm_spec.__dict__, "remote_id": "105"})
    responses.get(
        f"{NODE}/qemu/105/status/current",
        json={"data": {"status": "running", "cpu": 0.125, "mem": 1073741824, "maxmem": 2147483648}},
    )
    cpu, memory = ProxmoxModule(pve_connection).usage(spec)
    assert (cpu.used, cpu.unit) == (12.5, "%")
    assert (memory.used, memory.limit) == (1024, 2048)
