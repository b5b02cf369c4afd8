"""docs/django.md's quickstart, run as a user would: files on disk, a fresh interpreter.

The shared docs harness (tests/test_docs.py) runs pages in the test process, where Django
is already configured for the test project; a Django quickstart needs its own settings.
Blocks marked ``<!-- not-tested: fresh process ... -->`` are run here instead, in order:
``write-file`` blocks become files, python blocks one script run by a new interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_docs import blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["django.md"]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_in_a_fresh_process(page: str, tmp_path: Path) -> None:
    selected = [
        b
        for b in blocks((ROOT / "docs" / page).read_text(encoding="utf-8"))
        if b.markers.get("not-tested", "").startswith("fresh process")
    ]
    assert selected, f"docs/{page} has no fresh-process blocks"
    script: list[str] = []
    for block in selected:
        if "write-file" in block.markers:
            target = tmp_path / block.markers["write-file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
        elif block.lang == "python":
            script.append(f"# docs/{page}:{block.line}\n{block.code}")
    (tmp_path / "quickstart.py").write_text("\n".join(script), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    run = subprocess.run(
        [sys.executable, "-W", "error", "quickstart.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    assert "reports/q3.txt /files/media/reports/q3.txt" in run.stdout
    assert "304" in run.stdout and "206 b'Quarter'" in run.stdout
