from __future__ import annotations

import pytest

from provisioning.models import ModuleName, Server
from provisioning.modules.base import AccountSpec, Connection
from tests.helpers import PVE_TOKEN, WHM_TOKEN, make_server


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


@pytest.fixture
def whm_server(db) -> Server:
    return make_server(
        ModuleName.CPANEL, secret=WHM_TOKEN, hostname="whm.example.com", username="root"
    )
