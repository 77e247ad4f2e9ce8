"""Stripe webhooks: verify, store once, answer fast; a worker applies the event
(billing.services.stripe_events)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateway
from .services.stripe_events import stripe_event_record
from .tasks import process_stripe_event


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except gateway.WebhookSignatureError:
        return HttpResponse("Invalid or missing signature.", status=400, content_type="text/plain")
    stored = stripe_event_record(event=event)
    if stored.processed_at is None:
        transaction.on_commit(partial(process_stripe_event.delay, stored.pk))
    return HttpResponse("ok", content_type="text/plain")
