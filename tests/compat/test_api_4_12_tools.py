"""0.4.2 compatibility, docs/tutorials/07-advanced-features.md:
local_path() and call() (serve() is covered by the serving suite)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from genro_storage import StorageManager, StorageNode, StoragePermissionError


# ================================================================ local_path
def test_local_path_signature() -> None:
    assert inspect.signature(StorageNode.local_path).parameters["mode"].default == "r"


@pytest.mark.parametrize("mode", ["r", "w", "rw", "rb", "wb"])
def test_local_path_on_local_is_the_real_file(
    storage: StorageManager, home: Path, mode: str
) -> None:
    node = storage.node("home:sub/dir/real.txt")
    if mode.startswith("r"):
        node.write("x")
    with node.local_path(mode) as local:
        assert isinstance(local, str)
        assert Path(local) == (home / "sub" / "dir" / "real.txt").resolve()
        assert Path(local).parent.is_dir()  # parents exist for writing tools
        Path(local).write_text("edited")
    assert node.read() == "edited"  # no copy: even 'r' edits the file itself


def test_memory_temp_file_keeps_the_extension_and_is_removed(storage: StorageManager) -> None:
    node = storage.node("mem:doc/archive.tar.gz")
    node.write(b"data", "wb")
    with node.local_path() as local:
        assert local.endswith(".gz") and Path(local).read_bytes() == b"data"
    assert not Path(local).exists()


def test_memory_local_path_modes(storage: StorageManager) -> None:
    node = storage.node("mem:new/deep/created.txt")
    with node.local_path("w") as local:
        assert Path(local).read_bytes() == b""  # 'w' does not download
        Path(local).write_text("made by a tool")
    assert node.read() == "made by a tool"  # uploaded, parents created
    with node.local_path("rw") as local:
        Path(local).write_text(Path(local).read_text().upper())
    assert node.read() == "MADE BY A TOOL"
    with node.local_path("r") as local:
        Path(local).write_text("discarded")
    assert node.read() == "MADE BY A TOOL"


def test_memory_local_path_of_a_missing_file(storage: StorageManager) -> None:
    node = storage.node("mem:absent.txt")
    with node.local_path("rw") as local:
        assert Path(local).read_bytes() == b""
    assert node.read() == ""


def test_exception_skips_upload_and_removes_the_temp_file(storage: StorageManager) -> None:
    node = storage.node("mem:e.txt")
    node.write("before")
    with pytest.raises(KeyError), node.local_path("w") as local:
        Path(local).write_text("after")
        raise KeyError("tool failed")
    assert node.read() == "before" and not Path(local).exists()


def test_local_path_permission_layer(storage: StorageManager) -> None:
    storage.node("mem:p/f.txt").write("x")
    storage.configure([{"name": "ro", "path": "mem:p", "permissions": "readonly"}])
    with storage.node("ro:f.txt").local_path() as local:
        assert Path(local).read_text() == "x"
    for mode in ("w", "rw"):
        with pytest.raises(StoragePermissionError), storage.node("ro:f.txt").local_path(mode):
            pass


# ================================================================ call
def test_call_signature() -> None:
    params = inspect.signature(StorageNode.call).parameters
    assert params["callback"].default is None
    assert params["async_mode"].default is False
    assert params["return_output"].default is False
    assert params["args"].kind is inspect.Parameter.VAR_POSITIONAL
    assert params["subprocess_kwargs"].kind is inspect.Parameter.VAR_KEYWORD


def test_node_is_not_an_implicit_argument(storage: StorageManager) -> None:
    node = storage.node("mem:self.txt")
    node.write("x")
    out = node.call(sys.executable, "-c", "import sys; print(sys.argv[1:])", return_output=True)
    assert out == "[]\n"


def test_arguments_are_stringified_and_nodes_become_paths(
    storage: StorageManager, home: Path
) -> None:
    storage.node("home:in.txt").write("x")
    script = "import sys; print('|'.join(sys.argv[1:]))"
    out = storage.node("home:").call(
        sys.executable,
        "-c",
        script,
        42,
        Path("/p"),
        storage.node("home:in.txt"),
        return_output=True,
    )
    assert out == f"42|/p|{(home / 'in.txt').resolve()}\n"


def test_remote_node_arguments_round_trip(storage: StorageManager) -> None:
    src, dest = storage.node("mem:in.txt"), storage.node("mem:out/result.txt")
    src.write("payload")
    script = "import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])"
    assert src.call(sys.executable, "-c", script, src, dest) is None
    assert dest.read() == "payload"


def test_return_output_is_decoded_text(storage: StorageManager) -> None:
    out = storage.node("home:").call(
        sys.executable,
        "-c",
        "import sys; sys.stdout.buffer.write('é'.encode())",
        return_output=True,
    )
    assert out == "é"


def test_subprocess_kwargs_pass_through(storage: StorageManager, tmp_path: Path) -> None:
    out = storage.node("home:").call(
        sys.executable,
        "-c",
        "import os; print(os.getcwd(), os.environ['GS_X'])",
        return_output=True,
        cwd=str(tmp_path),
        env={"GS_X": "set"},
    )
    assert out.split() == [str(tmp_path), "set"]


def test_call_errors(storage: StorageManager) -> None:
    node = storage.node("home:")
    with pytest.raises(subprocess.CalledProcessError):
        node.call(sys.executable, "-c", "raise SystemExit(2)", return_output=True)
    with pytest.raises(FileNotFoundError):
        node.call("no-such-program-genro-xyz")
    with pytest.raises(subprocess.TimeoutExpired):
        node.call(sys.executable, "-c", "import time; time.sleep(5)", timeout=0.2)


def test_callback_runs_after_success_before_uploads(storage: StorageManager) -> None:
    # [Q] kept: the callback sees the remote file before the tool's output is uploaded
    dest = storage.node("mem:cb.txt")
    dest.write("old")
    seen: list[str] = []
    script = "import sys; open(sys.argv[1], 'w').write('new')"
    storage.node("mem:").call(
        sys.executable, "-c", script, dest, callback=lambda: seen.append(dest.read())
    )
    assert seen == ["old"] and dest.read() == "new"


def test_callback_not_called_on_failure(storage: StorageManager) -> None:
    called: list[int] = []
    with pytest.raises(subprocess.CalledProcessError):
        storage.node("home:").call(
            sys.executable, "-c", "raise SystemExit(1)", callback=lambda: called.append(1)
        )
    assert called == []


def test_async_mode_returns_none_at_once(storage: StorageManager) -> None:
    done = threading.Event()
    result = storage.node("home:").call(
        sys.executable, "-c", "import time; time.sleep(0.1)", async_mode=True, callback=done.set
    )
    assert result is None and not done.is_set()
    assert done.wait(10)


def test_async_mode_errors_do_not_reach_the_caller(
    storage: StorageManager, caplog: pytest.LogCaptureFixture
) -> None:
    before = set(threading.enumerate())
    assert storage.node("home:").call("no-such-program-genro-xyz", async_mode=True) is None
    for thread in set(threading.enumerate()) - before:
        thread.join(10)
    # no exception here and no unhandled-thread-exception warning (warnings are errors);
    # 0.4.2 lost the error silently, we log it
    assert any("no-such-program-genro-xyz" in r.getMessage() for r in caplog.records)


def test_readonly_node_argument_is_refused(storage: StorageManager) -> None:
    storage.node("mem:p/f.txt").write("x")
    storage.configure([{"name": "ro", "path": "mem:p", "permissions": "readonly"}])
    with pytest.raises(StoragePermissionError, match="Mount is read-only"):
        storage.node("mem:").call("cat", storage.node("ro:f.txt"))
