"""Inbound email from a provider through django-anymail (Mailgun's raw-MIME forward).

Anymail's view checks the HMAC signature with MAILGUN_WEBHOOK_SIGNING_KEY (400 when it
fails) and, with ANYMAIL_WEBHOOK_SECRET set, HTTP basic auth too; then it sends its
`inbound` signal, which support/receivers.py turns into services.inbound_email_receive.
"""

from __future__ import annotations

from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

_mailgun_inbound = MailgunInboundWebhookView.as_view()


@csrf_exempt
def mailgun_inbound(request: HttpRequest) -> HttpResponse:
    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        return HttpResponse("Inbound email from Mailgun is not configured.", status=404)
    response: HttpResponse = _mailgun_inbound(request)
    return response
