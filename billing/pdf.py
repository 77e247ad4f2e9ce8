"""Invoice PDFs with WeasyPrint (needs Debian's libpango-1.0-0 and libpangoft2-1.0-0)."""

from __future__ import annotations

from weasyprint import HTML


def html_to_pdf(html: str) -> bytes:
    # No base_url: the document embeds its styles and loads nothing from outside.
    pdf: bytes = HTML(string=html).write_pdf()  # without a target, WeasyPrint returns the bytes
    return pdf
