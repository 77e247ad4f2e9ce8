"""The customer as billing knows them: billing account, Stripe customer, invoice snapshot."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing import gateway
from billing.models import BillingAccount, StripeCustomerDeletion


def billing_account_for(*, user: User) -> BillingAccount:
    """The user's billing account, created on first need. Idempotent."""
    account, _ = BillingAccount.objects.get_or_create(user=user)
    return account


@transaction.atomic
def billing_account_update(*, user: User, vat_number: str) -> BillingAccount:
    """Saves the VAT number new invoices will print (spaces removed, upper case)."""
    account = billing_account_for(user=user)
    account.vat_number = vat_number.replace(" ", "").upper()
    account.save(update_fields=["vat_number"])
    return account


def customer_snapshot(*, user: User, vat_number: str) -> dict[str, str]:
    """Who the invoice is made out to, copied onto it so a later profile change or
    an erasure does not rewrite an issued document."""
    return {
        "billing_name": user.full_name or user.email,
        "billing_business": user.business_name,
        "billing_address": "\n".join(user.mailing_address_lines),
        "billing_country": str(user.country),
        "billing_email": user.email,
        "vat_number": vat_number,
    }


def stripe_customer_ensure(*, user: User) -> str:
    """The user's Stripe customer id, creating the customer on first need.

    The creation call carries an idempotency key per user, so two racing requests
    get the same customer back from Stripe.
    """
    account = billing_account_for(user=user)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer_id = gateway.customer_create(
        email=user.email,
        name=user.full_name or user.email,
        user_id=user.pk,
        idempotency_key=f"customer-for-user-{user.pk}-{int(user.date_joined.timestamp())}",
    )
    BillingAccount.objects.filter(pk=account.pk, stripe_customer_id="").update(
        stripe_customer_id=customer_id
    )
    account.refresh_from_db()
    return account.stripe_customer_id


def user_for_stripe_customer(*, customer_id: str) -> User | None:
    """Our customer behind a Stripe customer id (None when we do not know it)."""
    if not customer_id:
        return None
    account = (
        BillingAccount.objects.select_related("user").filter(stripe_customer_id=customer_id).first()
    )
    return account.user if account else None


def stripe_customer_deletion_done(*, customer_id: str) -> None:
    """Marks an erased customer's Stripe customer deleted; idempotent."""
    StripeCustomerDeletion.objects.filter(customer_id=customer_id, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), error=""
    )


def stripe_customer_deletion_refused(*, customer_id: str, reason: str) -> None:
    """Records that Stripe refused the deletion for good: the sweep stops asking, staff see why."""
    StripeCustomerDeletion.objects.filter(customer_id=customer_id, deleted_at__isnull=True).update(
        error=reason[:2000]
    )
