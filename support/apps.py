from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects anymail's inbound signal)
