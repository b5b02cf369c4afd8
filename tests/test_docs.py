"""Executed documentation: every code example in ``docs/**/*.md`` runs, so none can rot.

Per page, in order, in one shared namespace and a fresh temporary working directory:

- a ```` ```python ```` block is executed;
- a ```` ```bash ```` / ```` ```console ```` block runs (``bash -e``) only after
  ``<!-- run -->``; there ``genro-storage`` is this checkout's command line;
- ``<!-- write-file: NAME -->`` before any fenced block writes its text to ``NAME`` first
  (config files the next blocks load), without executing it;
- ``<!-- not-tested: why -->`` before a block leaves it out (illustrative only, keep rare);
- ``<!-- needs-module: pkg.mod -->`` before a block skips just that block while the module
  is not importable (a feature another branch is still building);
- ``<!-- requires: s3 -->`` (anywhere on the page) makes the whole page need that real
  service: it runs with ``AWS_ENDPOINT_URL`` and credentials pointing at the test server
  of ``tests/services.py`` (skipped on a plain ``pytest`` run, a failure in CI when missing).

Pages start from an empty memory store, so ``memory`` mounts behave as in a new process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<key>[a-z-]+)\s*(?::\s*(?P<value>.*?))?\s*-->\s*$")
_RUN_LANGS = ("bash", "console", "sh", "shell")

# Pages whose snippets are fragments of the test suite, not user examples. Each entry is
# a to-do for the page's owner: mark the blocks (not-tested / requires) and remove it here.
NOT_EXECUTED = {
    "services.md": "developer page: its blocks are test-suite fragments needing `env`",
}


@dataclass
class Block:
    """One fenced code block and the markers just before it."""

    lang: str
    code: str
    line: int
    markers: dict[str, str]


def blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown page, with the HTML-comment markers above each."""
    found: list[Block] = []
    lines = text.splitlines()
    pending: dict[str, str] = {}
    i = 0
    while i < len(lines):
        marker = _MARKER.match(lines[i])
        fence = _FENCE.match(lines[i])
        if marker:
            pending[marker.group("key")] = marker.group("value") or ""
        elif fence:
            indent, mark = len(fence.group("indent")), fence.group("fence")
            lang = (fence.group("info").strip().split() or [""])[0].strip("{}.").lower()
            body: list[str] = []
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(mark):
                body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
                i += 1
            found.append(Block(lang, "\n".join(body) + "\n", start + 1, pending))
            pending = {}
        elif lines[i].strip():
            pending = {}
        i += 1
    return found


def page_requires(text: str) -> list[str]:
    names: list[str] = []
    for match in re.finditer(r"<!--\s*requires:\s*([^>]*?)\s*-->", text):
        names.extend(n for n in re.split(r"[\s,]+", match.group(1)) if n)
    return names


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _fresh_memory_store() -> None:
    from fsspec.implementations.memory import MemoryFileSystem

    MemoryFileSystem.store.clear()
    MemoryFileSystem.pseudo_dirs[:] = [""]


def _service_environment(names: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services import require_services

    env = require_services(*names)
    if "s3" in names:
        monkeypatch.setenv("AWS_ENDPOINT_URL", env["SVC_S3_ENDPOINT"])
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", env["SVC_S3_KEY"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", env["SVC_S3_SECRET"])
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _run_shell(block: Block, where: str, cwd: Path) -> None:
    shim = f'genro-storage() {{ "{sys.executable}" -m genro_storage "$@"; }}\n'
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("GENRO_STORAGE_CONFIG", None)
    code = "\n".join(
        line[2:] if line.startswith("$ ") else line
        for line in block.code.splitlines()
        if block.lang != "console" or line.startswith("$ ")
    )
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", shim + code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{where}: shell block exited {result.returncode}\n{code}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )


# cli.md runs the command line as processes, a few seconds each: not in the fast tier
@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=pytest.mark.slow) if p.name == "cli.md" else p for p in pages()],
    ids=lambda p: p.relative_to(DOCS).as_posix(),
)
def test_page_examples_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    rel_docs = page.relative_to(DOCS).as_posix()
    if rel_docs in NOT_EXECUTED:
        pytest.skip(NOT_EXECUTED[rel_docs])
    text = page.read_text(encoding="utf-8")
    runnable = [b for b in blocks(text) if "not-tested" not in b.markers]
    if not any(
        b.lang == "python" or "run" in b.markers or "write-file" in b.markers for b in runnable
    ):
        pytest.skip("no executable examples on this page")
    needs = page_requires(text)
    if needs:
        _service_environment(needs, monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GENRO_STORAGE_CONFIG", raising=False)
    # the pages make their folders with tempfile.mkdtemp(): under tmp_path, pytest removes them
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    _fresh_memory_store()
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    rel = page.relative_to(ROOT).as_posix()
    for block in runnable:
        where = f"{rel}:{block.line}"
        if "needs-module" in block.markers and not _importable(block.markers["needs-module"]):
            continue
        if "write-file" in block.markers:
            target = tmp_path / block.markers["write-file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
        elif block.lang == "python":
            try:
                exec(compile(block.code, where, "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{where}: {type(exc).__name__}: {exc}\n{block.code}")
        elif "run" in block.markers and block.lang in _RUN_LANGS:
            _run_shell(block, where, tmp_path)
    capsys.readouterr()


def test_the_markers_are_parsed() -> None:
    text = (
        "<!-- write-file: m.yaml -->\n```yaml\n- a\n```\n\n"
        "<!-- not-tested: needs a camera -->\n```python\nboom()\n```\n"
        "```python\nx = 1\n```\n<!-- run -->\n```bash\necho hi\n```\n"
        "<!-- requires: s3 -->\n"
    )
    found = blocks(text)
    assert [(b.lang, b.markers) for b in found] == [
        ("yaml", {"write-file": "m.yaml"}),
        ("python", {"not-tested": "needs a camera"}),
        ("python", {}),
        ("bash", {"run": ""}),
    ]
    assert page_requires(text) == ["s3"]
