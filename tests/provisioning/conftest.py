from __future__ import annotations

import pytest

from provisioning.models import ModuleName, Server, ServerGroup
from provisioning.modules.base import AccountSpec, Connection
from provisioning.services import server_secret_set

WHM_TOKEN = "WHMTOKEN1234567890ABCDEF"
PVE_TOKEN = "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


@pytest.fixture
def whm_connection() -> Connection:
    return Connection(hostname="whm.example.com", port=None, username="root", secret=WHM_TOKEN)


@pytest.fixture
def pve_connection() -> Connection:
    return Connection(
        hostname="pve.example.com",
        port=None,
        username="root@pam!onepanel",
        secret=PVE_TOKEN,
        options={"node": "pve1", "poll_interval": 0, "task_timeout": 5},
    )


@pytest.fixture
def spec() -> AccountSpec:
    return AccountSpec(
        reference="service-12",
        username="alice12",
        domain="alice12.example.net",
        email="alice@example.com",
        package="starter",
    )


def make_server(module: str, *, secret: str, **fields: object) -> Server:
    group, _ = ServerGroup.objects.get_or_create(name=f"{module} servers", module=module)
    server = Server.objects.create(group=group, name=f"{module}-1", **fields)
    server_secret_set(server=server, secret=secret)
    return server


@pytest.fixture
def whm_server(db) -> Server:
    return make_server(
        ModuleName.CPANEL, secret=WHM_TOKEN, hostname="whm.example.com", username="root"
    )


GENERIC_SECRET = "whsec-generic-test-secret"


@pytest.fixture
def fake_panel():
    from tests.provisioning.fake_panel import FakePanel, serve

    panel = FakePanel(secret=GENERIC_SECRET)
    server = serve(panel)
    yield panel
    server.shutdown()
    server.server_close()


@pytest.fixture
def generic_server(db, fake_panel) -> Server:
    return make_server(
        ModuleName.GENERIC,
        secret=GENERIC_SECRET,
        hostname="127.0.0.1",
        port=fake_panel.port,
        use_tls=False,
        options={"path": "/onepanel"},
    )
