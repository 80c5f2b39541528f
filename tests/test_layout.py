"""How the tests hang together: a test module takes fixtures from conftest.py and helpers from
tests/helpers.py, tests/servers.py (and their like), never from another test module or from
bench/; bench/ imports only tests/servers.py (the real servers both start). So a test can move
or go without breaking another."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.config import ROOT

OTHER_TESTS = re.compile(r"^tests(\.browser)?\.(test_\w+|conftest)$")


def imports(path: Path) -> set[str]:
    """The modules `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_no_test_imports_another_test_module_or_bench() -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imports(path) if OTHER_TESTS.match(m) or m.split(".")[0] == "bench"
        )
        for path in sorted((ROOT / "tests").rglob("*.py"))
    }
    assert {path: modules for path, modules in wrong.items() if modules} == {}


def test_bench_imports_only_the_test_servers() -> None:
    wrong = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imports(path) if m.split(".")[0] == "tests" and m != "tests.servers"
        )
        for path in sorted((ROOT / "bench").glob("*.py"))
    }
    assert {path: modules for path, modules in wrong.items() if modules} == {}
