"""local_path(), call() with external tools, fill_from_url() against a real HTTP server."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from genro_storage import StorageManager


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a temp directory."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_local_path_on_memory_round_trip(storage: StorageManager) -> None:
    node = storage.node("mem:doc/report.txt")
    node.write("draft")
    with node.local_path(mode="rw") as local:
        assert local.endswith(".txt") and Path(local).read_text() == "draft"
        Path(local).write_text("final")
    assert node.read() == "final"
    assert not Path(local).exists()


def test_local_path_read_mode_discards_changes(storage: StorageManager) -> None:
    node = storage.node("mem:r.txt")
    node.write("keep")
    with node.local_path() as local:
        Path(local).write_text("changed")
    assert node.read() == "keep"


def test_local_path_write_mode_creates(storage: StorageManager) -> None:
    node = storage.node("mem:new/out.txt")
    with node.local_path(mode="w") as local:
        Path(local).write_text("created")
    assert node.read() == "created"


def test_local_path_exception_skips_upload(storage: StorageManager) -> None:
    node = storage.node("mem:e.txt")
    node.write("before")
    with pytest.raises(RuntimeError), node.local_path(mode="rw") as local:
        Path(local).write_text("after")
        raise RuntimeError
    assert node.read() == "before"


def test_call_downloads_inputs_and_uploads_outputs(storage: StorageManager) -> None:
    src, dest = storage.node("mem:in.txt"), storage.node("mem:out.txt")
    src.write("tool data")
    called = []
    result = src.call("cp", src, dest, callback=lambda: called.append(True))
    assert result is None and called == [True]
    assert dest.read() == "tool data"


def test_call_return_output_and_errors(storage: StorageManager) -> None:
    node = storage.node("home:x.txt")
    node.write("hello")
    assert node.call(sys.executable, "-c", "print('ok')", return_output=True) == "ok\n"
    import subprocess

    with pytest.raises(subprocess.CalledProcessError):
        node.call(sys.executable, "-c", "raise SystemExit(3)")
    with pytest.raises(FileNotFoundError):
        node.call("definitely-not-a-program-xyz")
    with pytest.raises(subprocess.TimeoutExpired):
        node.call(sys.executable, "-c", "import time; time.sleep(5)", timeout=0.2)


def test_call_async_mode_runs_callback_later(storage: StorageManager) -> None:
    done = threading.Event()
    node = storage.node("home:y.txt")
    assert node.call("sleep", "0.1", async_mode=True, callback=done.set) is None
    assert done.wait(5)


@pytest.mark.skipif(shutil.which("sort") is None, reason="needs coreutils sort")
def test_call_with_real_tool_on_memory_files(storage: StorageManager) -> None:
    src, dest = storage.node("mem:u.txt"), storage.node("mem:s.txt")
    src.write("b\na\nc\n")
    src.call("sort", "-o", dest, src)
    assert dest.read() == "a\nb\nc\n"


def test_fill_from_url(storage: StorageManager, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "file.bin").write_bytes(b"x" * 200_000)
    node = storage.node("mem:dl/file.bin")
    node.fill_from_url(f"{base}/file.bin")
    assert node.read_bytes() == b"x" * 200_000


def test_fill_from_url_errors(storage: StorageManager, http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    node = storage.node("mem:dl.bin")
    with pytest.raises(ValueError, match="Invalid URL"):
        node.fill_from_url("ftp://example.invalid/x")
    with pytest.raises(OSError, match="Failed to download"):
        node.fill_from_url(f"{base}/missing.bin")
    with pytest.raises(OSError, match="Failed to download"):
        node.fill_from_url("http://127.0.0.1:9/closed", timeout=2)
    assert not node.exists


def test_fill_from_url_into_base64(storage: StorageManager, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "t.txt").write_text("inline me")
    node = storage.node("data:")
    node.fill_from_url(f"{base}/t.txt")
    assert node.read() == "inline me"
    time.sleep(0)
