"""The coverage table and floor of ``scripts/test.sh``.

    python scripts/coverage_report.py COVERAGE.json [--no-floor]

Reads the JSON slipcover wrote (``python -m slipcover --json --out FILE -m pytest``),
prints the files not fully covered and the total, and exits 1 when the total is under
the floor: ``fail-under`` in ``[tool.genro-storage.coverage]`` of ``pyproject.toml``,
named by its line. ``--no-floor``: a run that selected tests reports without it.

slipcover's own ``fail-under`` is not used: with pytest-xdist, slipcover 1.1.0 merges
the workers' coverage for that check and then prints a report without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import slipcover
import tomllib

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TABLE = "tool.genro-storage.coverage"


def floor() -> tuple[float, int]:
    """The floor and the line of ``pyproject.toml`` that sets it."""
    text = PYPROJECT.read_text(encoding="utf-8")
    value = float(tomllib.loads(text)["tool"]["genro-storage"]["coverage"]["fail-under"])
    section = text.index(f"[{TABLE}]")
    line = text.count("\n", 0, text.index("fail-under", section)) + 1
    return value, line


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    try:
        coverage = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"coverage: FAILED: no coverage data in {path} ({exc})")
        return 1
    slipcover.print_coverage(coverage, skip_covered=True)
    total = float(coverage["summary"]["percent_covered"])
    if "--no-floor" in argv:
        print(f"coverage: {total:.2f} % (lines and branches; no floor: tests were selected)")
        return 0
    value, line = floor()
    where = f"pyproject.toml line {line}, [{TABLE}] fail-under"
    if total < value:
        print(f"coverage: FAILED: {total:.2f} % is under the floor {value} ({where})")
        return 1
    print(f"coverage: {total:.2f} % (lines and branches; floor {value}, {where})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
