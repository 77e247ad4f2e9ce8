"""Shared test helpers live in helper modules (tests/helpers.py, factories.py, servers.py,
fixtures.py): no test module and no conftest imports a test module or a conftest."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("tests.") and (last == "conftest" or last.startswith("test_"))


def imports_between_tests(source: str) -> list[str]:
    """The test modules and conftests `source` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_or_conftest(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _is_test_or_conftest(node.module):
                found.append(node.module)
            found += [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_test_or_conftest(f"{node.module}.{alias.name}")
            ]
    return found


def test_no_test_module_imports_another_test_module_or_a_conftest():
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imports_between_tests(path.read_text()))
    }
    assert offenders == {}


def test_each_kind_of_import_between_tests_is_caught():
    assert imports_between_tests("from tests.support.conftest import PDF_BYTES") == [
        "tests.support.conftest"
    ]
    assert imports_between_tests("from tests.notifications import test_broker_outage") == [
        "tests.notifications.test_broker_outage"
    ]
    assert imports_between_tests("import tests.billing.test_webhooks") == [
        "tests.billing.test_webhooks"
    ]
    assert imports_between_tests("from tests.helpers import free_port") == []
