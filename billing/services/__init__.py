"""Billing writes, one module per capability; import from the module that holds the
function (`from billing.services.payments import invoice_pay`).

- customers: the billing account, the Stripe customer, who a Stripe customer is
- invoices: numbering, tax, the one invoice builder, issuing, paid
- renewals: the next invoice of every service due soon (beat)
- dunning: reminders, overdue invoices and suspension of their services (beat)
- orders: the cart checked out into an order, its services and first invoice
- payments: paying an invoice by card, settling from Stripe's state, disputes
- manual_payments: bank transfers and marking paid by staff, cancelling an invoice
- scheduled_charges: the daily auto-charge and charges after verification (beat)
- cards: saving, choosing and removing cards, and following Stripe's card events
- refunds: refunds and credit notes
- stripe_events: storing and applying Stripe's webhook events, one handler per type

Each function says which transaction it runs in and whether a repeat is safe;
Stripe calls are made outside database transactions so no lock is held over the
network.
"""
