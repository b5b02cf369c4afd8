"""Memory stays flat while streaming: 4 clients download a 200 MiB file at once.

A behaviour test, not a timing test: the peak resident set of the serving process may grow
by at most 32 MiB over its idle size, which only holds if no response ever holds a file.
"""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path

import pytest

from tests._procs import free_port, gunicorn_args, server, uvicorn_args

SIZE = 200 * 1024 * 1024
CLIENTS = 4
BUDGET = 32 * 1024 * 1024

pytestmark = pytest.mark.slow


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def serving_pid(pid: int) -> int:
    """gunicorn serves from its (single) worker, a child of the master; uvicorn is one process."""
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = children_file.read_text().split() if children_file.exists() else []
        if children or "uvicorn" in Path(f"/proc/{pid}/cmdline").read_text():
            return int(children[0]) if children else pid
        time.sleep(0.05)
    raise RuntimeError("gunicorn started no worker")


def download(port: int, path: str, results: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        received = 0
        while chunk := response.read(1024 * 1024):
            received += len(chunk)
        results.append(received)
    finally:
        conn.close()


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big")
    (root / "files").mkdir()
    with open(root / "files" / "big.bin", "wb") as fh:
        fh.truncate(SIZE)  # sparse: no disk used, reads return zeros
    (root / "files" / "small.txt").write_bytes(b"warm-up\n")
    config = root / "storage.yaml"
    config.write_text(
        f"mounts:\n  - {{name: f, type: local, path: '{root / 'files'}'}}\nserve:\n  /files: f\n"
    )
    return config


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_peak_rss_stays_within_32_mib_of_idle(big_site: Path, kind: str) -> None:
    port = free_port()
    if kind == "gunicorn":
        args = gunicorn_args("genro_storage.serving.wsgi_app:create_app()", port)
    else:
        args = [*uvicorn_args("genro_storage.serving.asgi_app:create_app", port), "--factory"]
    with server(args, port, {"GENRO_STORAGE_CONFIG": str(big_site)}) as pid:
        target = serving_pid(pid)
        download(port, "/files/small.txt", [])
        idle = rss(target)
        results: list[int] = []
        threads = [
            threading.Thread(target=download, args=(port, "/files/big.bin", results))
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        peak = idle
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss(target))
            time.sleep(0.01)
        for thread in threads:
            thread.join()
    assert results == [SIZE] * CLIENTS
    growth = peak - idle
    print(f"{kind}: idle {idle / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB")
    assert growth <= BUDGET, f"{kind} grew {growth / 2**20:.1f} MiB while streaming"
