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
