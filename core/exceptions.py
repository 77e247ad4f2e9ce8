class ApplicationError(Exception):
    """A business rule was broken; the message is safe to show to the customer."""

    def __init__(self, message: str, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
