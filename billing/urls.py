from django.urls import path

from . import views, webhooks

app_name = "billing"

urlpatterns = [
    path("plans/", views.plans, name="plans"),
    path("billing/currency/", views.currency_set, name="currency"),
    path("billing/cart/", views.cart, name="cart"),
    path("billing/cart/add/", views.cart_add_view, name="cart_add"),
    path("billing/cart/<int:index>/remove/", views.cart_remove_view, name="cart_remove"),
    path("billing/checkout/", views.checkout, name="checkout"),
    path("billing/services/", views.service_list, name="services"),
    path("billing/services/<int:pk>/", views.service_detail, name="service_detail"),
    path(
        "billing/services/<int:pk>/credentials/",
        views.service_credentials,
        name="service_credentials",
    ),
    path("billing/services/<int:pk>/login/", views.service_login, name="service_login"),
    path("billing/services/<int:pk>/cancel/", views.service_cancel, name="service_cancel"),
    path("billing/services/<int:pk>/change/", views.service_change, name="service_change"),
    path("billing/orders/", views.order_list, name="orders"),
    path("billing/orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("billing/invoices/", views.invoice_list, name="invoices"),
    path("billing/credit/", views.credit_page, name="credit"),
    path("billing/invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("billing/invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("billing/invoices/<int:pk>/pay/", views.invoice_pay, name="invoice_pay"),
    path(
        "billing/invoices/<int:pk>/pay/return/",
        views.invoice_payment_return,
        name="invoice_payment_return",
    ),
    path("billing/details/", views.billing_details, name="details"),
    path("billing/cards/", views.payment_methods, name="payment_methods"),
    path("billing/cards/add/", views.card_add, name="card_add"),
    path("billing/cards/add/intent/", views.card_setup_intent, name="card_setup_intent"),
    path("billing/cards/add/complete/", views.card_setup_complete, name="card_setup_complete"),
    path("billing/cards/<int:pk>/default/", views.card_make_default, name="card_default"),
    path("billing/cards/<int:pk>/remove/", views.card_delete, name="card_remove"),
    path("billing/stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
