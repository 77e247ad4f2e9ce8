"""What provisioning/ holds about a customer, for export and erasure (found by privacy/).

Accounts carry no user relation (this floor takes plain account data): a customer's
accounts are those opened with their email address. Erasure forgets the address,
the module log's requests and responses, and the username and domain of accounts
already removed from their panel; a live account keeps its panel username and domain
until billing's erasure has it removed (the worker needs them to remove it).
"""

from __future__ import annotations

from typing import Any

from accounts.models import User

from .models import Account, AccountStatus, ModuleLog

MODELS = (Account, ModuleLog)


def export(user: User) -> dict[str, Any]:
    return {
        "hosting_accounts": [
            {
                "username": account.username,
                "domain": account.domain,
                "package": account.package,
                "status": account.status,
                "server": account.server.name,
                "created_at": account.created_at.isoformat(),
            }
            for account in Account.objects.filter(email__iexact=user.email)
            .select_related("server")
            .order_by("pk")
        ]
    }


def erase(user: User) -> None:
    accounts = Account.objects.filter(email__iexact=user.email)
    ids = list(accounts.values_list("pk", flat=True))
    ModuleLog.objects.filter(account_id__in=ids).update(request={}, response="")
    Account.objects.filter(pk__in=ids, status=AccountStatus.REMOVED).update(username="", domain="")
    Account.objects.filter(pk__in=ids).update(email="", usage=[], password_once_encrypted="")
