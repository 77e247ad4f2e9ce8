"""The embedded default prints emails decoded: a confirmation link is one clickable line."""

from __future__ import annotations

import io

from django.core.mail import EmailMultiAlternatives

from core.mail import ReadableConsoleEmailBackend

LINK = (
    "http://127.0.0.1:8000/accounts/confirm-email/MQ:1vQ3xk:Zx9pQ-long-signed-key=abcdef0123456789/"
)


def test_the_console_mailer_prints_links_whole_and_text_decoded():
    stream = io.StringIO()
    connection = ReadableConsoleEmailBackend(stream=stream)
    message = EmailMultiAlternatives(
        subject="[OnePanel] Confirm your email — Café",
        body=f"Hello Zoë,\n\nConfirm your address: {LINK}\n",
        from_email="OnePanel <billing@localhost>",
        to=["zoe@example.com"],
        connection=connection,
    )
    message.attach_alternative(f'<p>Confirm: <a href="{LINK}">{LINK}</a></p>', "text/html")

    message.send()

    printed = stream.getvalue()
    assert "Subject: [OnePanel] Confirm your email — Café" in printed
    assert "To: zoe@example.com" in printed
    assert f"Confirm your address: {LINK}" in printed.splitlines()
    assert f'href="{LINK}"' in printed
    assert "Hello Zoë," in printed
    assert "=3D" not in printed
