"""The whole life of a hosted service on a real Celery worker process over Redis: order, pay,
provision, overdue, suspend, pay, unsuspend, cancel, terminate, against a fake panel
on loopback that checks the generic module's signatures."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest

from billing.models import CancelWhen, Invoice, Service, ServiceStatus
from billing.services import cancellations
from billing.services.dunning import invoices_mark_overdue, services_suspend_overdue
from billing.services.manual_payments import invoice_mark_paid_outside_stripe
from billing.services.orders import CartLine, order_place
from billing.services.renewals import renewals_generate
from provisioning.models import ModuleLog
from tests.servers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

# A `celery worker` process (production settings, never eager) on a Redis server of its
# own, against the test database; the fixtures are notifications' broker-outage ones.


@pytest.fixture
def worker(broker, smtp_server) -> Iterator[WorkerProcess]:
    process = WorkerProcess(broker_url=broker.url, smtp_port=smtp_server.port)
    try:
        process.wait_for_log(" ready.")
        yield process
    finally:
        process.stop()


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"Timed out waiting for {what}")


def status_of(service: Service) -> str:
    return Service.objects.values_list("status", flat=True).get(pk=service.pk)


def test_a_service_lives_and_ends_on_a_real_worker(alice, hosted_plan, fake_panel, worker):
    order = order_place(
        user=alice, lines=[CartLine(product_id=hosted_plan.pk, cycle="monthly")], currency="EUR"
    )
    service = order.services.get()
    reference = f"service-{service.pk}"
    assert status_of(service) == ServiceStatus.PENDING and fake_panel.accounts == {}

    invoice_mark_paid_outside_stripe(invoice=order.invoices.get())
    wait_until(lambda: status_of(service) == ServiceStatus.ACTIVE, "provisioning")
    assert fake_panel.accounts[reference]["state"] == "active"

    service.refresh_from_db()
    due = service.next_due_date
    assert due is not None
    [renewal_id] = renewals_generate(today=due, days_ahead=0)
    invoices_mark_overdue(today=due + dt.timedelta(days=1))
    assert services_suspend_overdue(today=due + dt.timedelta(days=8), grace_days=7) == [service.pk]
    wait_until(lambda: fake_panel.accounts[reference]["state"] == "suspended", "suspension")

    invoice_mark_paid_outside_stripe(invoice=Invoice.objects.get(pk=renewal_id))
    wait_until(lambda: fake_panel.accounts[reference]["state"] == "active", "unsuspension")
    assert status_of(service) == ServiceStatus.ACTIVE

    service.refresh_from_db()
    cancellations.service_cancel_request(
        service=service, when=CancelWhen.END_OF_PERIOD, reason="", actor=alice
    )
    assert service.next_due_date is not None
    assert cancellations.service_cancel_run(service_id=service.pk, today=service.next_due_date)
    wait_until(lambda: status_of(service) == ServiceStatus.TERMINATED, "termination")
    assert reference not in fake_panel.accounts and fake_panel.rejected == 0

    assert [action for action, _ in fake_panel.calls] == [
        "create",
        "suspend",
        "unsuspend",
        "terminate",
    ]
    assert list(
        ModuleLog.objects.filter(account__reference=reference)
        .order_by("pk")
        .values_list("action", "status_code")
    ) == [("create", 200), ("suspend", 200), ("unsuspend", 200), ("terminate", 200)]
    assert list(service.transitions.order_by("pk").values_list("to_status", "job")) == [
        ("provisioning", "invoice_mark_paid"),
        ("active", "sync_service"),
        ("suspended", "mark_overdue_and_suspend"),
        ("active", "invoice_mark_paid"),
        ("cancelled", "run_cancellation"),
        ("terminated", "sync_service"),
    ]
