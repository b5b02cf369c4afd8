"""The main job: ``python -m genro_storage.demo`` serves the demo mounts and prints its URL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._procs import ctrl_c, popen_for_ctrl_c

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"(http://127\.0\.0\.1:\d+/)")


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    """Start the demo on a free port (``--port 0``), yield its URL, stop it with Ctrl-C."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "genro_storage.demo", "--port", "0", "--root", str(tmp_path)]
    proc = popen_for_ctrl_c(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        url = None
        assert proc.stdout is not None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"demo exited early with {proc.wait(5)}")
            match = URL.search(line)
            url = match.group(1) if match else None
        assert url, "the demo never printed its URL"
        yield url
    finally:
        try:  # 30 s: generous, a starved CI worker still exits cleanly
            assert ctrl_c(proc, 30, "the demo") == 0
        finally:
            assert proc.stdout is not None
            proc.stdout.close()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_demo_serves_a_seeded_file(demo_url: str) -> None:
    status, headers, body = fetch(demo_url + "files/hello.txt")
    assert (status, body) == (200, b"Hello from genro-storage!\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["ETag"] and headers["Last-Modified"]


def test_demo_lists_the_mounts_and_a_directory(demo_url: str) -> None:
    status, headers, body = fetch(demo_url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"files/" in body and b"scratch/" in body
    _, _, listing = fetch(demo_url + "files/?format=json")
    names = {entry["name"] for entry in json.loads(listing)["entries"]}
    assert names == {"hello.txt", "docs", "data"}


def test_demo_serves_the_memory_mount(demo_url: str) -> None:
    assert fetch(demo_url + "scratch/notes/today.txt")[2] == b"kept in memory\n"
    assert fetch(demo_url + "scratch/backup/docs/readme.md")[0] == 200
