"""``scripts/coverage_report.py``: the coverage floor of ``scripts/test.sh``, over a real
slipcover report of a small module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
FLOOR = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["genro-storage"]["coverage"][
    "fail-under"
]


def _report(tmp_path: Path, calls: str, *args: str) -> subprocess.CompletedProcess[str]:
    """slipcover measures a module of four functions, ``calls`` of them run. (The
    workers' shared coverage folder is hidden from it by ``tests/conftest.py``.)"""
    (tmp_path / "mod.py").write_text(
        "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\n"
        "def c():\n    return 3\n\n\ndef d():\n    return 4\n"
    )
    (tmp_path / "main.py").write_text(f"import mod\n{calls}\n")
    out = tmp_path / "cov.json"
    subprocess.run(
        [sys.executable, "-m", "slipcover", "--source", str(tmp_path), "--branch",
         "--json", "--out", str(out), str(tmp_path / "main.py")],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "coverage_report.py"), str(out), *args],
        capture_output=True,
        text=True,
    )


def test_under_the_floor_fails_naming_the_line_that_sets_it(tmp_path: Path) -> None:
    run = _report(tmp_path, "mod.a()")
    assert run.returncode == 1
    line = next(
        n
        for n, text in enumerate((ROOT / "pyproject.toml").read_text().splitlines(), 1)
        if text.startswith("fail-under")
    )
    assert f"under the floor {FLOOR} (pyproject.toml line {line}," in run.stdout
    assert "mod.py" in run.stdout  # the table names what is not fully covered


def test_over_the_floor_passes_and_a_selection_has_no_floor(tmp_path: Path) -> None:
    run = _report(tmp_path, "mod.a(); mod.b(); mod.c(); mod.d()")
    assert run.returncode == 0, run.stdout
    assert "100.00 %" in run.stdout and f"floor {FLOOR}" in run.stdout
    run = _report(tmp_path, "mod.a()", "--no-floor")
    assert run.returncode == 0 and "no floor" in run.stdout


def test_missing_data_fails(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "coverage_report.py"), str(tmp_path / "x")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and "no coverage data" in run.stdout
