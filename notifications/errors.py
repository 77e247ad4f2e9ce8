from __future__ import annotations


class DeliveryError(Exception):
    """A provider refused or could not take a message.

    permanent=True means another attempt cannot succeed (an invalid address, a
    recipient who opted out): the row fails at once. Otherwise the worker retries
    with backoff.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class NotConfiguredError(DeliveryError):
    """An outside service has empty keys; the operator must set them."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)
