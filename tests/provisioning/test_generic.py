"""The generic module against a small receiver on loopback that verifies its signature."""

from __future__ import annotations

import pytest
import responses

from provisioning.models import ModuleLog
from provisioning.modules.base import Connection, ModuleError
from provisioning.modules.generic import GenericModule
from provisioning.services import account_create, account_open, server_test
from tests.helpers import GENERIC_SECRET


def connection(port: int, secret: str = GENERIC_SECRET) -> Connection:
    return Connection(
        hostname="127.0.0.1",
        port=port,
        username="",
        secret=secret,
        use_tls=False,
        options={"path": "/onepanel"},
        timeout=5,
    )


def test_the_receiver_accepts_the_signed_calls_and_the_account_follows(fake_panel, spec):
    module = GenericModule(connection(fake_panel.port))
    created = module.create(spec)
    assert (created.username, created.password) == ("alice12", "S3cret-first-pass")
    module.suspend(spec, "overdue")
    assert fake_panel.accounts["service-12"]["state"] == "suspended"
    module.unsuspend(spec)
    assert module.sso_url(spec) == "https://panel.example.com/sso/service-12?token=one-time"
    [disk] = module.usage(spec)
    assert (disk.used, disk.limit) == (120.0, 1000.0)
    module.terminate(spec)
    assert fake_panel.accounts == {} and fake_panel.rejected == 0
    # A second create of the same reference is the receiver's no-op.
    module.create(spec)
    assert module.create(spec).password == ""


def test_a_wrong_secret_is_refused_by_the_receiver_and_is_permanent(fake_panel, spec):
    with pytest.raises(ModuleError) as caught:
        GenericModule(connection(fake_panel.port, secret="not-the-secret")).create(spec)
    assert caught.value.permanent and "bad signature" in caught.value.message
    assert fake_panel.rejected == 1 and fake_panel.accounts == {}


def test_a_5xx_is_transient(fake_panel, spec):
    fake_panel.fail_next.append(503)
    with pytest.raises(ModuleError) as caught:
        GenericModule(connection(fake_panel.port)).create(spec)
    assert caught.value.permanent is False


@responses.activate
def test_a_timeout_is_transient(spec):
    import requests

    responses.post("https://hooks.example.com:443/onepanel", body=requests.exceptions.ReadTimeout())
    module = GenericModule(
        Connection(
            hostname="hooks.example.com",
            port=None,
            username="",
            secret="s",
            options={"path": "/onepanel"},
        )
    )
    with pytest.raises(ModuleError) as caught:
        module.create(spec)
    assert caught.value.permanent is False


def test_server_test_and_the_log_keep_no_secret(generic_server, fake_panel):
    assert server_test(server=generic_server) == "Endpoint fake-1.0"
    account = account_open(
        reference="service-3",
        group=generic_server.group,
        username="dan3",
        domain="dan3.example.net",
        email="dan@example.com",
        package="starter",
        options={},
    )
    account_create(account_id=account.pk)
    row = ModuleLog.objects.get(account=account)
    assert row.request["body"]["action"] == "create"
    assert "S3cret-first-pass" not in row.response
    assert GENERIC_SECRET not in str(row.request) + row.response
