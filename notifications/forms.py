from __future__ import annotations

from django import forms

from .models import Purpose


class PreferencesForm(forms.Form):
    marketing_email = forms.BooleanField(
        required=False,
        label=Purpose.MARKETING_EMAIL.label,
        help_text="Occasional news about our services and offers. Invoices, order and "
        "support emails always reach you.",
    )
    marketing_sms = forms.BooleanField(
        required=False,
        label=Purpose.MARKETING_SMS.label,
        help_text="Offers by text message to your phone number.",
    )
    sms_alerts = forms.BooleanField(
        required=False,
        label=Purpose.SMS_ALERTS.label,
        help_text="Short texts about payments, renewals and service problems.",
    )


# Twilio's SIDs are two letters and 32 hex digits; kept loose, but never a NUL or a novel.
_SID = r"^[A-Za-z0-9]{2,64}$"


class TwilioStatusForm(forms.Form):
    """A delivery report's fields; Django's CharField refuses NUL characters."""

    MessageSid = forms.RegexField(regex=_SID)  # noqa: N815 (Twilio's parameter names)
    MessageStatus = forms.RegexField(regex=r"^[a-z_]{1,32}$")  # noqa: N815
    ErrorCode = forms.RegexField(regex=r"^[0-9]{1,10}$", required=False)  # noqa: N815


class TwilioInboundForm(forms.Form):
    """An incoming text message's fields."""

    MessageSid = forms.RegexField(regex=_SID)  # noqa: N815
    From = forms.CharField(max_length=32)
    Body = forms.CharField(max_length=1600, required=False)


def form_errors_text(form: forms.Form) -> str:
    """'field: reason; ...' for a 400 answer and the log (field names, never values)."""
    return "; ".join(
        f"{name}: {' '.join(str(message) for message in messages)}"
        for name, messages in form.errors.items()
    )
