"""The billing admin, one module per area; importing this package registers every
ModelAdmin on the admin site (Django's autodiscover imports `billing.admin`).

- columns: `money_column` and the fraud score columns the other modules share;
- catalogue: products with their prices, tax rates;
- orders: billing accounts, orders;
- services: services (status history, cancellations, panel sync);
- invoices: invoices and credit notes;
- payments: payments, saved cards, Stripe events;
- credit: the credit ledger and "Add or remove credit".
"""

from . import catalogue, credit, invoices, orders, payments, services
from .columns import money_column

__all__ = ["catalogue", "credit", "invoices", "money_column", "orders", "payments", "services"]
