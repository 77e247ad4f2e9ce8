"""What provisioning/ holds about a customer, for export and erasure (found by privacy/).

Accounts carry no user relation (this floor takes plain account data): a customer's
accounts are those opened with their email address. Erasure forgets the address,
the module log's requests and responses, and the username and domain of accounts
already removed from their panel; a live account keeps its panel username and domain
until billing's erasure has it removed (the worker needs them to remove it).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.models import User
from core.personal import ErasureBlocker

from .models import Account, AccountStatus, ModuleLog

# Accounts that still exist on a panel, with the customer's site, mail and databases.
LIVE = (AccountStatus.CREATED, AccountStatus.SUSPENDED)

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


def erasure_blockers(user: User) -> list[ErasureBlocker]:
    """One blocker per hosting account still on a panel (created or suspended).

    Its files, mailboxes and databases live on that server, out of our erasure's reach:
    erasing the customer first would orphan them there with no owner on record. Billing
    blocks while the service runs; this catches a cancelled service whose removal from
    the panel has not happened yet (queued, or the panel was unreachable).
    """
    accounts = Account.objects.filter(email__iexact=user.email, status__in=LIVE).order_by("pk")
    return [
        ErasureBlocker(
            reason=(
                f"The hosting account {account.domain or account.username} is still on our "
                "server, with its files, mail and databases."
            ),
            how_to_clear=(
                "Take a copy of anything you want to keep, then cancel its service; once the "
                "account is removed from the server (usually within minutes of the "
                "cancellation) you can erase. If it stays, open a ticket and we remove it."
            ),
            url=reverse("billing:services"),
        )
        for account in accounts
    ]


def erase(user: User) -> None:
    accounts = Account.objects.filter(email__iexact=user.email)
    ids = list(accounts.values_list("pk", flat=True))
    ModuleLog.objects.filter(account_id__in=ids).update(request={}, response="")
    Account.objects.filter(pk__in=ids, status=AccountStatus.REMOVED).update(username="", domain="")
    Account.objects.filter(pk__in=ids).update(email="", usage=[], password_once_encrypted="")
