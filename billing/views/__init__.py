"""Billing's customer pages, one module per area (billing/urls.py names each view):

- shop: plans, currency, cart, checkout;
- services: the customer's services and what they can do with them;
- invoices: invoices, paying them, credit, orders;
- cards: billing details and saved cards.
"""
