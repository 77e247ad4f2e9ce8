"""Provisioning writes: servers' secrets, accounts on panels, and the module log.

Callers (billing's workers) pass plain account data and ids; every panel call goes
through `_run`, which builds the server's module, logs each exchange with secrets
removed, and lets ModuleError (permanent or transient) through for the caller's
retry policy. Panel calls happen outside database transactions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.crypto import make_cipher

from .models import Account, AccountStatus, ModuleLog, Server, ServerGroup
from .modules import get_module
from .modules.base import AccountSpec, Connection, Created, Metric, Module, ModuleError


def _encrypt(text: str) -> str:
    return make_cipher(settings.PROVISIONING_ENCRYPTION_KEYS).encrypt(text.encode()).decode()


def _decrypt(token: str) -> str:
    if not token:
        return ""
    return make_cipher(settings.PROVISIONING_ENCRYPTION_KEYS).decrypt(token.encode()).decode()


# --- servers -----------------------------------------------------------------


def server_secret_set(*, server: Server, secret: str) -> None:
    """Stores the server's API token encrypted (PROVISIONING_ENCRYPTION_KEYS)."""
    server.secret_encrypted = _encrypt(secret) if secret else ""
    Server.objects.filter(pk=server.pk).update(secret_encrypted=server.secret_encrypted)


def connection_for(server: Server) -> Connection:
    return Connection(
        hostname=server.hostname,
        port=server.port,
        username=server.username,
        secret=_decrypt(server.secret_encrypted),
        use_tls=server.use_tls,
        verify_tls=server.verify_tls,
        options=dict(server.options),
        timeout=settings.PROVISIONING_TIMEOUT,
    )


def module_for(server: Server) -> Module:
    return get_module(server.group.module, connection_for(server))


def _run[T](
    *, server: Server, account: Account | None, action: str, call: Callable[[Module], T]
) -> T:
    """Calls the panel through `server`'s module and logs every exchange."""
    started = time.monotonic()
    module: Module | None = None
    error = ""
    try:
        module = module_for(server)
        return call(module)
    except ModuleError as exc:
        error = f"{'permanent' if exc.permanent else 'transient'}: {exc.message}"
        raise
    finally:
        exchanges = module.exchanges if module else []
        rows = [
            ModuleLog(
                server=server,
                account=account,
                action=action,
                method=exchange.method,
                url=exchange.url[:500],
                request=exchange.request,
                status_code=exchange.status_code,
                response=exchange.response,
                duration_ms=exchange.duration_ms,
            )
            for exchange in exchanges
        ]
        if error and rows:
            rows[-1].error = error
        elif error:
            rows.append(
                ModuleLog(
                    server=server,
                    account=account,
                    action=action,
                    method="",
                    url="",
                    error=error,
                    duration_ms=int((time.monotonic() - started) * 1000),
                )
            )
        ModuleLog.objects.bulk_create(rows)


def server_test(*, server: Server) -> str:
    """Asks the panel who it is; raises ModuleError when the credentials do not work."""
    return _run(server=server, account=None, action="test", call=lambda m: m.test_connection())


def server_pick(*, group: ServerGroup) -> Server:
    """The active server of `group` with the fewest accounts that still has room."""
    server = (
        Server.objects.filter(group=group, is_active=True)
        .annotate(used=Count("accounts", filter=~Q(accounts__status=AccountStatus.REMOVED)))
        .filter(used__lt=F("max_accounts"))
        .order_by("used", "pk")
        .first()
    )
    if server is None:
        raise ModuleError(f"No server in {group} has room for another account.", permanent=True)
    return server


# --- accounts ----------------------------------------------------------------


def account_open(
    *,
    reference: str,
    group: ServerGroup,
    username: str,
    domain: str,
    email: str,
    package: str,
    options: dict[str, object],
) -> Account:
    """The account row for `reference`, placed on a server of `group` the first time.
    Idempotent: the same reference always gives the same row."""
    existing = Account.objects.filter(reference=reference).select_related("server").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Account.objects.create(
                reference=reference,
                server=server_pick(group=group),
                username=username,
                domain=domain,
                email=email,
                package=package,
                options=options,
            )
    except IntegrityError:
        return Account.objects.select_related("server").get(reference=reference)


def spec_of(account: Account) -> AccountSpec:
    return AccountSpec(
        reference=account.reference,
        username=account.username,
        domain=account.domain,
        email=account.email,
        package=account.package,
        options=dict(account.options),
        remote_id=account.remote_id,
    )


def _load(account_id: int) -> Account:
    return Account.objects.select_related("server", "server__group").get(pk=account_id)


def account_create(*, account_id: int) -> Created:
    """Creates the account on its panel, once: an account already created returns
    without a call. The first password is kept encrypted until shown once."""
    account = _load(account_id)
    if account.status != AccountStatus.NEW:
        return Created(username=account.username, password="", remote_id=account.remote_id)
    created = _run(
        server=account.server,
        account=account,
        action="create",
        call=lambda m: m.create(spec_of(account)),
    )
    Account.objects.filter(pk=account.pk, status=AccountStatus.NEW).update(
        status=AccountStatus.CREATED,
        username=created.username,
        remote_id=created.remote_id,
        password_once_encrypted=_encrypt(created.password) if created.password else "",
    )
    return created


def account_suspend(*, account_id: int, reason: str) -> None:
    account = _load(account_id)
    if account.status != AccountStatus.CREATED:
        return
    _run(
        server=account.server,
        account=account,
        action="suspend",
        call=lambda m: m.suspend(spec_of(account), reason),
    )
    Account.objects.filter(pk=account.pk).update(status=AccountStatus.SUSPENDED)


def account_unsuspend(*, account_id: int) -> None:
    account = _load(account_id)
    if account.status != AccountStatus.SUSPENDED:
        return
    _run(
        server=account.server,
        account=account,
        action="unsuspend",
        call=lambda m: m.unsuspend(spec_of(account)),
    )
    Account.objects.filter(pk=account.pk).update(status=AccountStatus.CREATED)


def account_terminate(*, account_id: int) -> None:
    """Removes the account from its panel; one never created or already removed needs
    no call."""
    account = _load(account_id)
    if account.status == AccountStatus.REMOVED:
        return
    if account.status != AccountStatus.NEW:
        _run(
            server=account.server,
            account=account,
            action="terminate",
            call=lambda m: m.terminate(spec_of(account)),
        )
    Account.objects.filter(pk=account.pk).update(
        status=AccountStatus.REMOVED, password_once_encrypted=""
    )


def account_change_package(*, account_id: int, package: str, options: dict[str, object]) -> None:
    """Moves the account to another package; the row keeps what the panel has."""
    account = _load(account_id)
    if account.status == AccountStatus.REMOVED:
        return
    if account.status != AccountStatus.NEW:
        spec = replace(spec_of(account), package=package, options=dict(options))
        _run(
            server=account.server,
            account=account,
            action="change_package",
            call=lambda m: m.change_package(spec),
        )
    Account.objects.filter(pk=account.pk).update(package=package, options=options)


def account_sso_url(*, account_id: int) -> str:
    """A one-time login link from the panel ("" when its module has none)."""
    account = _load(account_id)
    if account.status != AccountStatus.CREATED:
        return ""
    return _run(
        server=account.server,
        account=account,
        action="sso",
        call=lambda m: m.sso_url(spec_of(account)) if m.has_sso else "",
    )


def account_usage_refresh(*, account_id: int) -> list[Metric]:
    """Reads usage from the panel and keeps it on the account for the service page."""
    account = _load(account_id)
    if account.status not in (AccountStatus.CREATED, AccountStatus.SUSPENDED):
        return []
    metrics = _run(
        server=account.server,
        account=account,
        action="usage",
        call=lambda m: m.usage(spec_of(account)) if m.has_usage else [],
    )
    Account.objects.filter(pk=account.pk).update(
        usage=[asdict(metric) for metric in metrics], usage_at=timezone.now()
    )
    return metrics


@transaction.atomic
def account_password_take(*, account_id: int) -> str:
    """The first password, once: it is decrypted and forgotten in one transaction."""
    account = Account.objects.select_for_update().get(pk=account_id)
    password = _decrypt(account.password_once_encrypted)
    if password:
        Account.objects.filter(pk=account.pk).update(password_once_encrypted="")
    return password


def account_password_waiting(*, account: Account) -> bool:
    return bool(account.password_once_encrypted)
