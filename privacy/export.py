"""Builds a customer's GDPR export: one zip, written to disk as it goes.

The zip holds `export.json` (schema in docs/export-format.md), `summary.html` (the same
data, readable) and the files the apps hand over (invoice PDFs, attachments). Each
app's personal_data.export is asked in turn and written out before the next is asked,
so no more than one app's categories are in memory at once; files are opened one at a
time and copied in chunks.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import User
from core.personal import category_value

from . import discovery

FORMAT_VERSION = 1


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str, sort_keys=True)


def build(*, user: User, request_id: int) -> Path:
    """Writes the zip to a temporary file and returns its path (the caller stores and
    removes it)."""
    handle, name = tempfile.mkstemp(prefix=f"export-{request_id}-", suffix=".zip")
    path = Path(name)
    with (
        open(handle, "wb") as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        tempfile.TemporaryFile("w+b") as summary,
    ):
        generated_at = timezone.now().isoformat()
        _write(
            summary,
            render_to_string(
                "privacy/export/summary_head.html",
                {"user": user, "generated_at": generated_at},
            ),
        )
        # Files first: a zip takes one member at a time, and export.json lists them.
        files: list[str] = []
        for source in discovery.sources():
            for item in source.export_files(user):
                with item.open() as data, archive.open(item.path, "w") as target:
                    shutil.copyfileobj(data, target, length=1024 * 1024)
                files.append(item.path)
        with archive.open("export.json", "w", force_zip64=True) as out:
            _write(out, '{\n"format": "onepanel-export",\n')
            _write(out, f'"version": {FORMAT_VERSION},\n"generated_at": {_json(generated_at)},\n')
            _write(out, f'"customer_id": {user.pk},\n"files": {_json(files)},\n"categories": {{\n')
            first = True
            for source in discovery.sources():
                categories: Mapping[str, object] = source.export(user)
                for category, deferred in categories.items():
                    key = f"{source.app_label}.{category}"
                    value = category_value(deferred)
                    _write(out, ("" if first else ",\n") + f"{_json(key)}: {_json(value)}")
                    first = False
                    _write(summary, _section(key, value))
                    del value  # one category in memory at a time
                del categories
            _write(out, "\n}\n}\n")
        _write(summary, render_to_string("privacy/export/summary_tail.html", {"files": files}))
        summary.seek(0)
        with archive.open("summary.html", "w") as target:
            shutil.copyfileobj(summary, target)
    return path


def _section(key: str, value: object) -> str:
    return str(format_html("<section><h2>{}</h2>{}</section>\n", key, _html(value)))


def _html(value: object) -> SafeString:
    """A value as readable HTML: lists of records as tables, records as definition lists."""
    if isinstance(value, list) and value and all(isinstance(row, dict) for row in value):
        columns = list(dict.fromkeys(key for row in value for key in row))
        head = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in columns))
        rows = format_html_join(
            "\n",
            "<tr>{}</tr>",
            (
                (format_html_join("", "<td>{}</td>", ((_html(row.get(c, "")),) for c in columns)),)
                for row in value
            ),
        )
        return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, rows)
    if isinstance(value, list):
        if not value:
            return format_html("<p>{}</p>", "None held.")
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_html(v),) for v in value))
        )
    if isinstance(value, dict):
        items = ((k, _html(v)) for k, v in value.items())
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", items))
    return format_html("{}", "" if value is None else value)


def _write(out: IO[bytes], text: str) -> None:
    out.write(text.encode())
