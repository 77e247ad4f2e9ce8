from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .catalogue import connect_signals
        from .models import CreditEntry, CreditNote, Invoice, InvoiceLine, Payment

        # Every change to an invoice, its lines, a payment or a credit note gets an entry
        # naming who (the staff member, through AuditlogMiddleware), when and what changed.
        auditlog.register(CreditNote)
        auditlog.register(Invoice)
        auditlog.register(InvoiceLine)
        auditlog.register(Payment)
        # Credit added or removed by staff (and by billing), with the actor.
        auditlog.register(CreditEntry)
        # Pages keep the catalogue in memory; a change to it tells every worker to re-read.
        connect_signals()
