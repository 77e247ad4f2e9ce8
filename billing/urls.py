from django.urls import path

from . import webhooks
from .views import cards, invoices, services, shop

app_name = "billing"

urlpatterns = [
    path("plans/", shop.plans, name="plans"),
    path("billing/currency/", shop.currency_set, name="currency"),
    path("billing/cart/", shop.cart, name="cart"),
    path("billing/cart/add/", shop.cart_add_view, name="cart_add"),
    path("billing/cart/<int:index>/remove/", shop.cart_remove_view, name="cart_remove"),
    path("billing/checkout/", shop.checkout, name="checkout"),
    path("billing/services/", services.service_list, name="services"),
    path("billing/services/<int:pk>/", services.service_detail, name="service_detail"),
    path(
        "billing/services/<int:pk>/credentials/",
        services.service_credentials,
        name="service_credentials",
    ),
    path("billing/services/<int:pk>/login/", services.service_login, name="service_login"),
    path("billing/services/<int:pk>/cancel/", services.service_cancel, name="service_cancel"),
    path("billing/services/<int:pk>/change/", services.service_change, name="service_change"),
    path("billing/orders/", invoices.order_list, name="orders"),
    path("billing/orders/<int:pk>/", invoices.order_detail, name="order_detail"),
    path("billing/invoices/", invoices.invoice_list, name="invoices"),
    path("billing/credit/", invoices.credit_page, name="credit"),
    path("billing/invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("billing/invoices/<int:pk>/pdf/", invoices.invoice_pdf, name="invoice_pdf"),
    path("billing/invoices/<int:pk>/pay/", invoices.invoice_pay, name="invoice_pay"),
    path(
        "billing/invoices/<int:pk>/pay/return/",
        invoices.invoice_payment_return,
        name="invoice_payment_return",
    ),
    path("billing/details/", cards.billing_details, name="details"),
    path("billing/cards/", cards.payment_methods, name="payment_methods"),
    path("billing/cards/add/", cards.card_add, name="card_add"),
    path("billing/cards/add/intent/", cards.card_setup_intent, name="card_setup_intent"),
    path("billing/cards/add/complete/", cards.card_setup_complete, name="card_setup_complete"),
    path("billing/cards/<int:pk>/default/", cards.card_make_default, name="card_default"),
    path("billing/cards/<int:pk>/remove/", cards.card_delete, name="card_remove"),
    path("billing/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
