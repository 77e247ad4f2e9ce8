from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from .models import Invoice, InvoiceLine, Payment

        # Every change to an invoice, its lines or a payment gets an entry naming who
        # (the staff member, through AuditlogMiddleware), when and what changed.
        auditlog.register(Invoice)
        auditlog.register(InvoiceLine)
        auditlog.register(Payment)
