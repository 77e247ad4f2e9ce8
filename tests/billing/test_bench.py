from __future__ import annotations

import io

from django.core.management import call_command

from billing.models import Invoice, Service


def test_the_bench_measures_and_leaves_nothing_behind(db):
    out = io.StringIO()
    call_command("bench_billing", services=50, customers=5, invoices=60, requests=1, stdout=out)
    text = out.getvalue()
    assert "Renewals: 50 invoices" in text
    assert "Second run (idempotent): 0 invoices" in text
    assert "invoice list" in text
    assert "Rolled back" in text
    assert not Invoice.objects.exists()
    assert not Service.objects.exists()
