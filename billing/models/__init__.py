"""Billing: what we sell, what customers ordered, what they owe and how they pay.

Money is always an integer count of minor units (cents, pence) next to an ISO
4217 currency code; no floats anywhere.

One module per capability; every model is imported here, as Django expects of an
app's models module, so `from billing.models import Invoice` works as before:

- catalogue: Product, Price, TaxRate and their choices;
- orders: BillingAccount, Order;
- services: Service, ServiceTransition, ServiceChange;
- invoices: DocumentCounter, Invoice, InvoiceLine, CreditNote;
- payments: PaymentMethod, Payment, StripeEvent, VerificationHold, StripeCustomerDeletion;
- credit: CreditBalance, CreditEntry.
"""

from .catalogue import BillingCycle, Currency, PlanCategory, Price, Product, ProductKind, TaxRate
from .credit import CreditBalance, CreditEntry, CreditKind
from .invoices import (
    PAYABLE_STATUSES,
    CreditNote,
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from .orders import BillingAccount, Order, OrderStatus
from .payments import (
    OPEN_DISPUTE,
    DisputeOutcome,
    HoldStatus,
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    StripeCustomerDeletion,
    StripeEvent,
    VerificationHold,
)
from .services import (
    CancelWhen,
    ChangeStatus,
    Service,
    ServiceChange,
    ServiceStatus,
    ServiceTransition,
)

__all__ = [
    "BillingCycle",
    "Currency",
    "PlanCategory",
    "Price",
    "Product",
    "ProductKind",
    "TaxRate",
    "BillingAccount",
    "Order",
    "OrderStatus",
    "CancelWhen",
    "ChangeStatus",
    "Service",
    "ServiceChange",
    "ServiceStatus",
    "ServiceTransition",
    "PAYABLE_STATUSES",
    "CreditNote",
    "DocumentCounter",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "OPEN_DISPUTE",
    "DisputeOutcome",
    "HoldStatus",
    "Payment",
    "PaymentMethod",
    "PaymentMethodKind",
    "PaymentStatus",
    "StripeCustomerDeletion",
    "StripeEvent",
    "VerificationHold",
    "CreditBalance",
    "CreditEntry",
    "CreditKind",
]
