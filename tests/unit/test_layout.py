"""The layout holds: the core knows no Temporal, and the distribution installs only the `liveshift` package."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "liveshift"
# folders at the top of the repository installed inside the liveshift namespace (pyproject's package-dir)
NAMESPACED = ("cli", "workflows", "activities", "worker")


def _top(module: str) -> str:
    """`liveshift.cli` of `liveshift.cli.main`."""
    return ".".join(module.split(".")[:2])


def _imported_modules(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_the_core_imports_no_temporal() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "temporalio")
        for path in CORE.rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_core_imports_nothing_of_the_temporal_side() -> None:
    temporal_side = {f"liveshift.{name}" for name in NAMESPACED}
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(path) if ".".join(m.split(".")[:2]) in temporal_side
        )
        for path in CORE.rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_activities_import_no_workflow() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.startswith("liveshift.workflows"))
        for path in (ROOT / "activities").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def _packages_in(folder: Path, prefix: tuple[str, ...]) -> set[str]:
    return {
        ".".join((*prefix, *d.relative_to(folder).parts))
        for d in [folder, *folder.rglob("*")]
        if (d / "__init__.py").exists()
    }


def _packages_on_disk() -> set[str]:
    found = _packages_in(CORE, ("liveshift",))
    for top in NAMESPACED:
        found |= _packages_in(ROOT / top, ("liveshift", top))
    return found


def test_pyproject_lists_every_package() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(setuptools["packages"]) == _packages_on_disk()
    assert setuptools["package-dir"] == {f"liveshift.{name}": name for name in NAMESPACED}


def test_the_installed_distribution_exposes_only_liveshift(tmp_path: Path) -> None:
    """Outside the repository (no checkout on sys.path), the Temporal side is importable only inside the
    liveshift namespace: a `cli` or `worker` of another distribution cannot collide with ours."""
    probe = (
        "import importlib.util, json\n"
        f"names = {[*NAMESPACED, 'liveshift', *(f'liveshift.{n}' for n in NAMESPACED)]!r}\n"
        "print(json.dumps({n: importlib.util.find_spec(n) is not None for n in names}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)
    found = __import__("json").loads(out.stdout)
    assert found == {
        **{n: False for n in NAMESPACED},
        "liveshift": True,
        **{f"liveshift.{n}": True for n in NAMESPACED},
    }
    script = Path(sys.executable).with_name("liveshift")
    help_text = subprocess.run([str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "Zero-downtime schema migrations" in help_text.stdout
