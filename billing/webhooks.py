"""Stripe webhooks: verify, store once, answer fast; a worker applies the event
(billing.services.stripe_events)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.queue import enqueue_on_commit

from . import gateway
from .services.stripe_events import stripe_event_record
from .tasks import process_stripe_event

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except gateway.WebhookSignatureError:
        return HttpResponse("Invalid or missing signature.", status=400, content_type="text/plain")
    except gateway.WebhookPayloadError as error:
        # Signed by Stripe yet unstorable (NaN, a NUL, a lone surrogate, an overlong id):
        # refused with the reason, and logged, since a real Stripe would not send it.
        logger.warning("Signed Stripe event refused: %s", error)
        return HttpResponse(f"Unusable event: {error}", status=400, content_type="text/plain")
    stored = stripe_event_record(event=event)
    if stored.processed_at is None:
        # A broker outage is logged; billing.tasks.requeue_dropped_work picks the event up.
        enqueue_on_commit(process_stripe_event, stored.pk)
    return HttpResponse("ok", content_type="text/plain")
