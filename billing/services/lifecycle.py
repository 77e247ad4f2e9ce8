"""The service lifecycle: one table of allowed status changes, each recorded, and the
worker step that makes the panel match a service's status.

    pending ──paid──▶ provisioning ──created──▶ active ◀──paid── suspended
       │                  │  ▲                   │  └──overdue──▶  │
       │                  ▼  │ staff retry       │                 │
       │                failed                   ▼                 ▼
       └──────────────────┴──────────────▶ cancelled ──removed──▶ terminated

Billing decides the status (payment, overdue, cancellation); `service_sync`, run by a
worker, asks provisioning to make the panel agree (create, suspend, unsuspend,
terminate). It is idempotent: it reads the status fresh and provisioning skips work
already done, so a repeated or late task does nothing wrong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import (
    ChangeStatus,
    Service,
    ServiceChange,
    ServiceStatus,
    ServiceTransition,
)
from billing.notices import tell_customer, tell_staff
from core.exceptions import ApplicationError
from core.links import absolute_url
from provisioning import services as provisioning
from provisioning.modules.base import ModuleError

logger = logging.getLogger(__name__)

S = ServiceStatus
ALLOWED: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROVISIONING, S.CANCELLED}),
    S.PROVISIONING: frozenset({S.ACTIVE, S.FAILED}),
    S.FAILED: frozenset({S.PROVISIONING, S.CANCELLED}),
    S.ACTIVE: frozenset({S.SUSPENDED, S.CANCELLED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.CANCELLED}),
    S.CANCELLED: frozenset({S.TERMINATED}),
    S.TERMINATED: frozenset(),
}


def can_transition(source: str, target: str) -> bool:
    return target in ALLOWED[ServiceStatus(source)]


def _stamp_fields(target: str, *, first_activation: bool) -> dict[str, object]:
    now = timezone.now()
    fields: dict[str, object] = {"status": target}
    if target == S.SUSPENDED:
        fields["suspended_at"] = now
    elif target == S.ACTIVE:
        fields["suspended_at"] = None
        if first_activation:
            fields["activated_at"] = now
    elif target == S.TERMINATED:
        fields["terminated_at"] = now
    elif target == S.CANCELLED:
        fields["next_due_date"] = None
    return fields


@transaction.atomic
def service_transition(
    *, service_id: int, to: str, actor: User | None = None, job: str = "", reason: str = ""
) -> bool:
    """Moves one service to `to` and records who (or which job), when and why.

    Returns False and changes nothing when the service is already there (a repeat);
    raises ApplicationError when the table does not allow the change. The row is
    locked for the transaction, so two callers never both change it.
    """
    service = Service.objects.select_for_update().get(pk=service_id)
    if service.status == to:
        return False
    if not can_transition(service.status, to):
        raise ApplicationError(
            f"A {ServiceStatus(service.status).label.lower()} service cannot become "
            f"{ServiceStatus(to).label.lower()}."
        )
    fields = _stamp_fields(to, first_activation=service.activated_at is None)
    Service.objects.filter(pk=service.pk).update(**fields)
    ServiceTransition.objects.create(
        service=service,
        from_status=service.status,
        to_status=to,
        actor=actor,
        job=job,
        reason=reason[:255],
    )
    return True


def services_transition(
    *, ids: Iterable[int], to: str, job: str, reason: str, actor: User | None = None
) -> list[int]:
    """`service_transition` for many services at once (beat jobs): one locking select,
    one update per source status, one bulk insert of records. Services that may not
    make the change (or already have) are left alone. Runs in the caller's
    transaction; returns the ids changed."""
    rows = list(
        Service.objects.select_for_update()
        .filter(pk__in=list(ids))
        .values_list("pk", "status", "activated_at")
    )
    movable = [
        (pk, status, activated)
        for pk, status, activated in rows
        if status != to and can_transition(status, to)
    ]
    for first_activation in (True, False):
        group = [pk for pk, _, activated in movable if (activated is None) == first_activation]
        if group:
            Service.objects.filter(pk__in=group).update(
                **_stamp_fields(to, first_activation=first_activation)
            )
    ServiceTransition.objects.bulk_create(
        ServiceTransition(
            service_id=pk,
            from_status=status,
            to_status=to,
            actor=actor,
            job=job,
            reason=reason[:255],
        )
        for pk, status, _ in movable
    )
    return [pk for pk, _, _ in movable]


def sync_later(service_ids: Iterable[int]) -> None:
    """Queues `service_sync`, once the caller's transaction commits, for each of these
    services that lives on a panel (the others have nothing to sync)."""
    ids = list(service_ids)
    if not ids:
        return
    on_panel = Service.objects.filter(pk__in=ids).filter(
        Q(account__isnull=False) | Q(product__server_group__isnull=False)
    )
    # By name, so services never import the tasks that call them (no import circle).
    sync_service = current_app.tasks["billing.tasks.sync_service"]
    for service_id in on_panel.values_list("pk", flat=True):
        transaction.on_commit(partial(sync_service.delay, service_id))


def service_start(*, service: Service, job: str, reason: str) -> None:
    """A paid new service: set up on its panel by a worker, or active at once when its
    product has nothing to set up. Runs in the caller's transaction."""
    service_transition(service_id=service.pk, to=S.PROVISIONING, job=job, reason=reason)
    if service.product.server_group_id is None:
        service_transition(
            service_id=service.pk, to=S.ACTIVE, job=job, reason="nothing to set up on a panel"
        )
    else:
        sync_later([service.pk])


# --- the worker's side ---------------------------------------------------------


def _username_for(service: Service) -> str:
    """A panel username: up to 8 letters of the customer's address, then the service id
    (WHM allows 16 lower-case letters and digits, starting with a letter)."""
    letters = re.sub(r"[^a-z]", "", service.user.email.split("@")[0].lower())[:8] or "user"
    return f"{letters}{service.pk}"[:16]


def _account_for(service: Service) -> int:
    """The provisioning account of `service`, opened on a server the first time."""
    if service.account_id:
        return service.account_id
    product = service.product
    if product.server_group is None:
        raise ModuleError(f"{product} names no server group.", permanent=True)
    username = _username_for(service)
    account = provisioning.account_open(
        reference=f"service-{service.pk}",
        group=product.server_group,
        username=username,
        domain=service.domain or f"{username}.{settings.PROVISIONING_DEFAULT_DOMAIN}",
        email=service.user.email,
        package=product.package,
        options=dict(product.module_options),
    )
    Service.objects.filter(pk=service.pk, account__isnull=True).update(account=account)
    return account.pk


def service_url(service: Service) -> str:
    return absolute_url(reverse("billing:service_detail", args=[service.pk]))


def service_sync(*, service_id: int) -> str:
    """Makes the panel match the service's status, and finishes the changes that wait
    for the panel (provisioning → active, cancelled → terminated). Returns the status.

    Idempotent. Raises provisioning's ModuleError for the task's retry policy.
    """
    service = Service.objects.select_related("product", "user", "account").get(pk=service_id)
    has_panel = service.product.server_group_id is not None or service.account_id is not None
    if service.status == S.PROVISIONING:
        username = password = ""
        if has_panel:
            created = provisioning.account_create(account_id=_account_for(service))
            username, password = created.username, created.password
        with transaction.atomic():
            if (
                service_transition(
                    service_id=service.pk,
                    to=S.ACTIVE,
                    job="sync_service",
                    reason="created on the panel" if has_panel else "nothing to set up",
                )
                and has_panel
            ):
                tell_customer(
                    user=service.user,
                    kind="billing-service-ready",
                    context={
                        "service_name": service.product.name,
                        "service_url": service_url(service),
                        "username": username,
                        "password": "",
                    },
                    # Never in the outbox row's text; merged in as the email is sent.
                    secrets={"password": password} if password else None,
                )
    elif service.status == S.SUSPENDED and service.account_id:
        provisioning.account_suspend(
            account_id=service.account_id, reason="Suspended for an overdue invoice"
        )
    elif service.status == S.ACTIVE and service.account_id:
        provisioning.account_unsuspend(account_id=service.account_id)
        account, product = service.account, service.product
        wanted = (product.package, product.module_options)
        if account is not None and (account.package, account.options) != wanted:
            provisioning.account_change_package(
                account_id=service.account_id,
                package=service.product.package,
                options=dict(service.product.module_options),
            )
    elif service.status == S.CANCELLED:
        if service.account_id:
            provisioning.account_terminate(account_id=service.account_id)
        with transaction.atomic():
            if (
                service_transition(
                    service_id=service.pk,
                    to=S.TERMINATED,
                    job="sync_service",
                    reason="removed from the panel" if service.account_id else "nothing on a panel",
                )
                and service.account_id
            ):
                tell_customer(
                    user=service.user,
                    kind="billing-service-terminated",
                    context={"service_name": service.product.name},
                )
    Service.objects.filter(pk=service.pk).exclude(panel_error="").update(
        panel_error="", panel_error_at=None
    )
    return Service.objects.values_list("status", flat=True).get(pk=service.pk)


PANEL_ACTIONS = {
    S.SUSPENDED: "Suspending",
    S.ACTIVE: "Unsuspending (or changing the package of)",
    S.CANCELLED: "Removing",
}


def module_log_url(*, account_reference: str) -> str:
    return absolute_url(
        reverse("admin:provisioning_modulelog_changelist") + f"?q={account_reference}"
    )


def service_sync_failed(*, service_id: int, reason: str) -> bool:
    """A suspend, unsuspend, package change or removal gave up (for good, or after its
    retries): the error is kept on the service and staff are told, once per failure
    (a repeat while the error stands tells nobody; the next sync that works clears
    it). Returns whether staff were told."""
    with transaction.atomic():
        service = (
            Service.objects.select_for_update(of=("self",))
            .select_related("product", "user", "account")
            .get(pk=service_id)
        )
        if service.panel_error:
            return False
        Service.objects.filter(pk=service.pk).update(
            panel_error=reason or "the panel call failed", panel_error_at=timezone.now()
        )
        action = PANEL_ACTIONS.get(ServiceStatus(service.status), "Syncing")
        reference = service.account.reference if service.account else f"service-{service.pk}"
        tell_staff(
            kind="billing-staff-panel-sync-failed",
            context={
                "action": action,
                "service_name": service.product.name,
                "customer": service.user.email,
                "status": ServiceStatus(service.status).label.lower(),
                "reason": reason,
                "module_log_url": module_log_url(account_reference=reference),
                "service_admin_url": absolute_url(
                    reverse("admin:billing_service_change", args=[service.pk])
                ),
            },
        )
    return True


def service_sync_retry(*, service: Service, actor: User) -> bool:
    """Staff ask the panel to match the service again (admin action) once its cause is
    fixed; only services whose last sync failed."""
    if not service.panel_error:
        return False
    logger.info("Service %s: panel sync retried by staff %s.", service.pk, actor.pk)
    sync_later([service.pk])
    return True


def service_provision_failed(*, service_id: int, reason: str) -> bool:
    """Setting up gave up: the service is failed and staff are told, once."""
    with transaction.atomic():
        try:
            moved = service_transition(
                service_id=service_id, to=S.FAILED, job="sync_service", reason=reason
            )
        except ApplicationError:
            return False
        if moved:
            service = Service.objects.select_related("product", "user").get(pk=service_id)
            tell_staff(
                kind="billing-staff-provisioning-failed",
                context={
                    "service_name": service.product.name,
                    "customer": service.user.email,
                    "reason": reason,
                    "service_admin_url": absolute_url(
                        reverse("admin:billing_service_change", args=[service.pk])
                    ),
                },
            )
        return moved


def service_provision_retry(*, service: Service, actor: User) -> bool:
    """Staff try a failed set-up again (admin action)."""
    with transaction.atomic():
        moved = service_transition(
            service_id=service.pk,
            to=S.PROVISIONING,
            actor=actor,
            job="admin",
            reason="retry requested by staff",
        )
        if moved:
            sync_later([service.pk])
    return moved


# --- upgrades and downgrades taking effect ------------------------------------


def service_change_apply(*, change: ServiceChange) -> bool:
    """Moves the service to the change's product and price and queues the panel's
    package change (a downgrade's credit is posted by changes.service_change_request).
    Runs in the caller's transaction; a change already applied or cancelled is left
    alone."""
    applied = ServiceChange.objects.filter(
        pk=change.pk, status=ChangeStatus.AWAITING_PAYMENT
    ).update(status=ChangeStatus.APPLIED, applied_at=timezone.now())
    if not applied:
        return False
    service = Service.objects.select_for_update().get(pk=change.service_id)
    service.product_id = change.to_product_id
    service.amount = change.to_amount
    service.save(update_fields=["product", "amount"])
    sync_later([service.pk])
    return True
