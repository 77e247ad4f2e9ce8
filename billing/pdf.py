"""Invoice PDFs with WeasyPrint (needs Debian's libpango-1.0-0 and libpangoft2-1.0-0).

Profiled for the GDPR export (docs/benchmarks.md, "Where the time went"): a third of
each PDF's time went to what is the same for every invoice. Each `HTML()` built a URL
fetcher whose HTTPS handler loaded the system's CA certificates
(`SSLContext.set_default_verify_paths`, the largest single item), and each
`write_pdf()` set up a new fontconfig `FontConfiguration`. Both are made once per
thread now. The fetcher refuses every URL: the document embeds its styles and loads
nothing, so nothing a customer typed into an invoice can make the renderer fetch.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

# WeasyPrint (with fontTools) is imported on the first PDF, not with the app: it was
# 45% of the import time of a Django process (billing.personal_data, which privacy
# discovers at start-up, and the invoice views import this module), 0.5-1 s of CPU for
# every gunicorn, Celery and manage.py process that never renders a PDF.


@functools.cache
def _nothing_fetcher_class() -> type[Any]:
    from weasyprint.urls import URLFetcher

    class NothingFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no types
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            raise ValueError(f"Invoice documents load nothing from outside (asked for {url}).")

    return NothingFetcher


_local = threading.local()


def _renderer() -> tuple[Any, Any]:
    """One fetcher and one font configuration per thread (neither is thread-safe)."""
    if not hasattr(_local, "renderer"):
        from weasyprint.text.fonts import FontConfiguration

        _local.renderer = (_nothing_fetcher_class()(), FontConfiguration())
    renderer: tuple[Any, Any] = _local.renderer
    return renderer


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    fetcher, fonts = _renderer()
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=fonts)
    return pdf
