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

import threading
from typing import Any

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher


class _NothingFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no types
    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        raise ValueError(f"Invoice documents load nothing from outside (asked for {url}).")


_local = threading.local()


def _renderer() -> tuple[URLFetcher, FontConfiguration]:
    """One fetcher and one font configuration per thread (neither is thread-safe)."""
    if not hasattr(_local, "renderer"):
        _local.renderer = (_NothingFetcher(), FontConfiguration())
    renderer: tuple[URLFetcher, FontConfiguration] = _local.renderer
    return renderer


def html_to_pdf(html: str) -> bytes:
    fetcher, fonts = _renderer()
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(font_config=fonts)
    return pdf
