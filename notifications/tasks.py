from __future__ import annotations

from celery import shared_task

from .delivery import message_deliver, messages_deliver, outbox_requeue_stuck


@shared_task(ignore_result=True)
def send_message(message_id: int) -> str:
    """Delivers one outbox row; a duplicate run is a no-op (the row is claimed first)."""
    return message_deliver(message_id=message_id)


@shared_task(ignore_result=True)
def send_emails(message_ids: list[int]) -> dict[int, str]:
    """Delivers a batch of email rows over one SMTP session; each at most once."""
    return messages_deliver(message_ids=message_ids)


@shared_task(ignore_result=True)
def send_texts(message_ids: list[int]) -> dict[int, str]:
    """Delivers a batch of text-message rows; each at most once."""
    return messages_deliver(message_ids=message_ids)


@shared_task(ignore_result=True)
def requeue_stuck_messages() -> int:
    """Beat job: hands queued rows nobody claimed back to the broker."""
    return outbox_requeue_stuck()
