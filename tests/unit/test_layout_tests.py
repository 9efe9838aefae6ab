"""The tests' own layout holds: what tests share lives in tests/harness, and no test module imports another test
module or tests/conftest.py (a test module is free to change without breaking a second one, and pytest never
collects one module's names from another)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
HARNESS = "tests.harness"


def _is_module(name: str) -> bool:
    path = TESTS.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or path.is_dir()


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, anywhere in it (`from a import b`: `a.b` where b is a module, else `a`).
    A relative import keeps its dots, so that it shows as an offence: tests import absolutely."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                yield f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base


def _of_the_tests(module: str) -> bool:
    return module.startswith(".") or module == "tests" or module.startswith("tests.")


def _in_the_harness(module: str) -> bool:
    return module == HARNESS or module.startswith(f"{HARNESS}.")


def _offences(paths: list[Path], allowed: Callable[[str], bool]) -> dict[str, list[str]]:
    offences = {
        str(path.relative_to(TESTS.parent)): sorted(
            m for m in set(_imports(path)) if _of_the_tests(m) and not allowed(m)
        )
        for path in paths
    }
    return {path: modules for path, modules in offences.items() if modules}


def test_the_scan_sees_test_modules_and_the_harness() -> None:
    assert len(list(TESTS.rglob("test_*.py"))) > 50
    assert (TESTS / "harness" / "scenario.py").exists()


def test_test_modules_and_conftest_import_only_the_harness() -> None:
    paths = [*TESTS.rglob("test_*.py"), *TESTS.rglob("conftest.py")]
    assert _offences([p for p in paths if "harness" not in p.parts], _in_the_harness) == {}


def test_the_harness_imports_no_test_module_nor_conftest() -> None:
    def harness_module(module: str) -> bool:
        return _in_the_harness(module) and not any(
            part.startswith("test_") or part == "conftest" for part in module.split(".")
        )

    assert _offences(list((TESTS / "harness").rglob("*.py")), harness_module) == {}


def test_shared_code_lives_in_the_harness() -> None:
    """Beside the fixtures, no module at the top of tests/: what tests share is a harness module."""
    assert sorted(p.name for p in TESTS.glob("*.py")) == ["__init__.py", "conftest.py"]
    assert not list((TESTS / "harness").rglob("test_*.py")), "a test module inside the harness"
