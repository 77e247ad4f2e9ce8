"""docs/privacy-promises.md names, for each promise, the tests that prove it: every one
of them must exist, and every promise must name at least one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "privacy-promises.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def _rows() -> list[list[str]]:
    rows = []
    for line in MAP.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and not set(cells[0]) <= {"-"}:
            if cells[0] != "Promise":
                rows.append(cells)
    return rows


def missing_tests(text: str) -> list[str]:
    """Every `tests/x.py::name` (and each `::name` after it, same file) in `text` that
    does not exist."""
    missing = []
    current: Path | None = None
    for path, name, follow in REFERENCE.findall(text):
        if path:
            current = ROOT / path
            if not current.is_file():
                missing.append(path)
                continue
        name = name or follow
        if not name:
            continue
        # Only a test proves a promise: a helper or a fixture of that name does not.
        if (
            not name.startswith("test_")
            or current is None
            or not re.search(rf"^\s*def {name}\(", current.read_text(), re.MULTILINE)
        ):
            missing.append(f"{current}::{name}")
    return missing


def test_every_test_the_promise_map_names_exists():
    assert missing_tests(MAP.read_text()) == []


def test_every_promise_names_the_code_and_at_least_one_test():
    rows = _rows()
    assert len(rows) >= 30
    for promise, kept_by, proven_by in rows:
        assert kept_by, promise
        assert REFERENCE.search(proven_by), promise


def test_a_row_naming_a_test_that_does_not_exist_is_caught():
    text = (
        "| A promise | code | `tests/privacy/test_export.py::test_there_is_no_such_test`,"
        " `::test_the_link_is_emailed_needs_the_owner_signed_in_and_expires` |"
    )

    assert missing_tests(text) == [
        f"{ROOT / 'tests/privacy/test_export.py'}::test_there_is_no_such_test"
    ]
    assert missing_tests("`tests/privacy/test_nowhere.py::test_x`") == [
        "tests/privacy/test_nowhere.py"
    ]
    # A helper of the test module is not a test.
    assert missing_tests("`tests/privacy/test_promise_map.py::missing_tests`") == [
        f"{ROOT / 'tests/privacy/test_promise_map.py'}::missing_tests"
    ]
