"""The cPanel/WHM module against WHM API 1's documented shapes, through `responses`."""

from __future__ import annotations

import pytest
import requests
import responses
from responses import matchers

from provisioning.models import Account, AccountStatus, ModuleLog, Server
from provisioning.modules.base import ModuleError
from provisioning.modules.cpanel import CpanelModule
from provisioning.services import (
    account_create,
    account_open,
    account_password_take,
    account_sso_url,
    server_test,
)
from tests.helpers import WHM_TOKEN

API = "https://whm.example.com:2087/json-api"
AUTH = {"Authorization": f"whm root:{WHM_TOKEN}"}


def whm(
    command: str, data: dict[str, object] | None = None, result: int = 1, reason: str = "OK"
) -> dict[str, object]:
    return {
        "metadata": {"version": 1, "reason": reason, "result": result, "command": command},
        "data": data or {},
    }


@responses.activate
def test_it_creates_an_account_with_the_token_header_and_api_version(whm_connection, spec):
    responses.get(
        f"{API}/createacct",
        json=whm("createacct", {"package": "starter"}, reason="Account Creation Ok"),
        match=[
            matchers.header_matcher(AUTH),
            matchers.query_param_matcher(
                {
                    "api.version": "1",
                    "username": "alice12",
                    "domain": "alice12.example.net",
                    "plan": "starter",
                    "contactemail": "alice@example.com",
                },
                strict_match=False,
            ),
        ],
    )
    created = CpanelModule(whm_connection).create(spec)

    assert created.username == "alice12" and len(created.password) >= 20
    sent = responses.calls[0].request
    assert f"password={created.password}" in str(sent.url)


@responses.activate
def test_a_failed_result_is_a_permanent_error_with_whms_reason(whm_connection, spec):
    responses.get(
        f"{API}/changepackage",
        json=whm("changepackage", result=0, reason="The package “gold” does not exist."),
    )
    with pytest.raises(ModuleError) as caught:
        CpanelModule(whm_connection).change_package(spec)
    assert caught.value.permanent
    assert "gold" in caught.value.message


@responses.activate
def test_a_second_create_finds_the_account_already_there(whm_connection, spec):
    responses.get(
        f"{API}/createacct",
        json=whm(
            "createacct", result=0, reason="Sorry, a passwd entry for “alice12” already exists."
        ),
    )
    responses.get(
        f"{API}/accountsummary",
        json=whm("accountsummary", {"acct": [{"user": "alice12", "diskused": "1M"}]}),
    )
    created = CpanelModule(whm_connection).create(spec)
    assert (created.username, created.password) == ("alice12", "")


@responses.activate
def test_suspend_unsuspend_and_remove_call_their_functions(whm_connection, spec):
    for command in ("suspendacct", "unsuspendacct", "removeacct"):
        responses.get(
            f"{API}/{command}",
            json=whm(command),
            match=[matchers.query_param_matcher({"user": "alice12"}, strict_match=False)],
        )
    module = CpanelModule(whm_connection)
    module.suspend(spec, "Overdue invoice")
    module.unsuspend(spec)
    module.terminate(spec)
    assert [c.request.path_url.split("?")[0] for c in responses.calls] == [
        "/json-api/suspendacct",
        "/json-api/unsuspendacct",
        "/json-api/removeacct",
    ]
    assert "reason=Overdue+invoice" in str(responses.calls[0].request.url)


@responses.activate
def test_removing_an_account_already_gone_is_not_an_error(whm_connection, spec):
    responses.get(
        f"{API}/removeacct",
        json=whm("removeacct", result=0, reason="The user “alice12” does not exist."),
    )
    CpanelModule(whm_connection).terminate(spec)


@responses.activate
def test_sso_returns_create_user_sessions_url(whm_connection, spec):
    url = "https://whm.example.com:2083/cpsess1234567890/login/?session=alice12%3aGHeh%3acreate_user_session%2c5dc6"
    responses.get(
        f"{API}/create_user_session",
        json=whm(
            "create_user_session",
            {
                "url": url,
                "session": "alice12:GHeh:create_user_session,5dc6",
                "expires": 1401993893,
                "service": "cpaneld",
                "cp_security_token": "/cpsess1234567890",
            },
            reason="Created session",
        ),
        match=[
            matchers.query_param_matcher(
                {"user": "alice12", "service": "cpaneld"}, strict_match=False
            )
        ],
    )
    module = CpanelModule(whm_connection)
    assert module.sso_url(spec) == url
    # The log never keeps the session that logs in.
    [exchange] = module.exchanges
    assert "GHeh" not in exchange.response and WHM_TOKEN not in str(exchange)


@responses.activate
def test_usage_reads_accountsummary_sizes(whm_connection, spec):
    responses.get(
        f"{API}/accountsummary",
        json=whm(
            "accountsummary",
            {"acct": [{"user": "alice12", "diskused": "120M", "disklimit": "unlimited"}]},
        ),
    )
    [disk] = CpanelModule(whm_connection).usage(spec)
    assert (disk.label, disk.used, disk.limit, disk.unit) == ("Disk", 120.0, None, "MB")


@responses.activate
@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ({"body": requests.exceptions.ReadTimeout("read timed out")}, False),
        ({"body": requests.exceptions.ConnectionError("refused")}, False),
        ({"status": 503, "body": "Service Unavailable"}, False),
        ({"status": 403, "body": "Access denied"}, True),
        ({"status": 200, "body": "<html>login</html>"}, False),
    ],
)
def test_transport_failures_carry_the_right_flag(whm_connection, spec, reply, permanent):
    responses.get(f"{API}/suspendacct", **reply)
    with pytest.raises(ModuleError) as caught:
        CpanelModule(whm_connection).suspend(spec, "x")
    assert caught.value.permanent is permanent


@responses.activate
def test_the_service_layer_logs_each_call_without_the_token_or_password(whm_server: Server):
    responses.get(f"{API}/createacct", json=whm("createacct"))
    account = account_open(
        reference="service-7",
        group=whm_server.group,
        username="bob7",
        domain="bob7.example.net",
        email="bob@example.com",
        package="starter",
        options={},
    )
    created = account_create(account_id=account.pk)
    assert account_create(account_id=account.pk).password == ""  # second call: no request
    assert len(responses.calls) == 1

    [row] = ModuleLog.objects.filter(account=account)
    assert (row.action, row.method, row.status_code) == ("create", "GET", 200)
    assert row.url == f"{API}/createacct"
    assert row.request["query"]["password"] == "[removed]"
    assert created.password not in str(row.request) and WHM_TOKEN not in str(row.request)
    stored = Account.objects.get(pk=account.pk)
    assert stored.status == AccountStatus.CREATED
    assert created.password not in stored.password_once_encrypted
    assert account_password_take(account_id=account.pk) == created.password
    assert account_password_take(account_id=account.pk) == ""


@responses.activate
def test_server_secret_is_encrypted_and_test_connection_reads_the_version(whm_server):
    assert WHM_TOKEN not in whm_server.secret_encrypted
    responses.get(
        f"{API}/version",
        json=whm("version", {"version": "11.134.0.5"}),
        match=[matchers.header_matcher(AUTH)],
    )
    assert server_test(server=whm_server) == "WHM 11.134.0.5"


@responses.activate
def test_a_timeout_is_logged_with_its_error(whm_server):
    responses.get(f"{API}/create_user_session", body=requests.exceptions.ReadTimeout("slow"))
    account = account_open(
        reference="service-8",
        group=whm_server.group,
        username="carol8",
        domain="c.example.net",
        email="c@example.com",
        package="starter",
        options={},
    )
    Account.objects.filter(pk=account.pk).update(status=AccountStatus.CREATED)
    with pytest.raises(ModuleError):
        account_sso_url(account_id=account.pk)
    [row] = ModuleLog.objects.filter(account=account)
    assert row.error == "transient: The panel did not answer in time."
