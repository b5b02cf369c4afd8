"""0.4.2 compatibility, docs/index.md (0.4.2 differences):
where 0.4.2's documentation disagrees with its code, the code's behaviour
is what users depend on (where 0.5 differs, it says so)."""

from __future__ import annotations

import inspect
import sys
from typing import Any

import pytest

from genro_storage import StorageManager, StorageNode, StorageNotFoundError


def test_read_and_write_spellings_both_work(storage: StorageManager) -> None:
    # 0.5 differs: both the README's read_bytes()/write_text()... and 0.4.2's read()/write()
    node = storage.node("mem:io.txt")
    assert node.write_text("t") is True and node.read_text() == "t" == node.read()
    assert node.write_bytes(b"b") is True and node.read_bytes() == b"b" == node.read("rb")
    assert node.write_text("x", skip_if_unchanged=True) is True
    assert node.write_text("x", skip_if_unchanged=True) is False
    assert node.write_bytes(b"x", skip_if_unchanged=True) is False
    assert node.write_text("é", encoding="latin-1") and node.read_bytes() == b"\xe9"


def test_copy_and_move_are_copy_to_and_move_to(storage: StorageManager) -> None:
    assert callable(StorageNode.copy_to) and callable(StorageNode.move_to)


def test_dummy_node_is_not_an_accumulator(storage: StorageManager) -> None:
    with pytest.raises(ValueError):
        storage.node().append(storage.node("mem:x"))


def test_missing_mount_is_storage_not_found_error(storage: StorageManager) -> None:
    with pytest.raises(StorageNotFoundError):
        storage.node("nowhere:x")


def test_open_defaults_to_text(storage: StorageManager) -> None:
    storage.node("mem:t.txt").write("text")
    with storage.node("mem:t.txt").open() as fh:
        assert isinstance(fh.read(), str)


def test_child_takes_several_parts(storage: StorageManager) -> None:
    assert storage.node("mem:").child("a", "b", "c.txt").path == "a/b/c.txt"


def test_file_copied_into_a_directory_and_move_is_copy_plus_delete(
    storage: StorageManager,
) -> None:
    storage.node("mem:f.txt").write("x")
    storage.node("mem:dir").mkdir()
    storage.node("mem:f.txt").copy_to("mem:dir")
    assert storage.node("mem:dir/f.txt").read() == "x"
    node = storage.node("mem:dir/f.txt")
    node.move_to("mem:elsewhere.txt")
    assert not storage.node("mem:dir/f.txt").exists and node.read() == "x"


def test_traversal_is_rejected_before_reaching_the_backend(storage: StorageManager) -> None:
    with pytest.raises(ValueError, match=r"Parent directory traversal \(\.\.\) is not supported"):
        storage.node("home:../../etc/passwd")


def test_serve_signature_is_the_wsgi_one() -> None:
    params = inspect.signature(StorageNode.serve).parameters
    assert list(params)[1:6] == [
        "environ",
        "start_response",
        "download",
        "download_name",
        "cache_max_age",
    ]
    assert params["download"].default is False
    assert params["download_name"].default is None and params["cache_max_age"].default is None


@pytest.mark.parametrize(
    "kwargs",
    [{"skip_if": "exists"}, {"progress_callback": print}, {"filter_fn": print}],
)
def test_documented_but_absent_copy_keywords_raise_type_error(
    storage: StorageManager, kwargs: dict[str, Any]
) -> None:
    storage.node("mem:f").write("x")
    with pytest.raises(TypeError):
        storage.node("mem:f").copy_to("mem:g", **kwargs)


def test_callback_shapes(storage: StorageManager) -> None:
    storage.node("mem:s/a").write("a")
    storage.node("mem:d/a").write("a")
    storage.node("mem:s/b").write("b")
    calls: list[tuple[Any, ...]] = []
    storage.node("mem:s").copy_to(
        "mem:d",
        skip="exists",
        on_file=lambda *a: calls.append(("file", *a)),
        on_skip=lambda *a: calls.append(("skip", *a)),
        progress=lambda *a: calls.append(("progress", *a)),
    )
    shapes = {(c[0], len(c) - 1) for c in calls}
    assert shapes == {("file", 1), ("skip", 2), ("progress", 2)}


@pytest.mark.parametrize("kwargs", [{"mime_type": "x/y"}, {"data_uri": False}])
def test_to_base64_keyword_names(storage: StorageManager, kwargs: dict[str, Any]) -> None:
    storage.node("mem:f.txt").write("x")
    with pytest.raises(TypeError):
        storage.node("mem:f.txt").to_base64(**kwargs)
    assert storage.node("mem:f.txt").to_base64(mime="x/y", include_uri=True).startswith("data:x/y")


def test_call_takes_varargs_and_callback_takes_no_arguments(storage: StorageManager) -> None:
    got: list[tuple[Any, ...]] = []
    storage.node("home:").call(sys.executable, "-c", "pass", callback=lambda *a: got.append(a))
    assert got == [()]


def test_delete_has_no_recursive_parameter_and_is_recursive(storage: StorageManager) -> None:
    storage.node("mem:tree/a/b").write("x")
    with pytest.raises(TypeError):
        storage.node("mem:tree").delete(recursive=True)  # type: ignore[call-arg]
    storage.node("mem:tree").delete()
    assert not storage.node("mem:tree").exists


def test_backend_doc_names_map_to_the_code_names(storage: StorageManager) -> None:
    storage.node("mem:n/f.txt").write("x")
    children = storage.node("mem:n").children()
    assert [c.basename for c in children] == ["f.txt"]
    assert len(children[0].md5hash) == 32


def test_versions_are_oldest_first(storage: StorageManager, versioned: object) -> None:
    node = storage.node("ver:f")
    node.write("1")
    node.write("2")
    assert [v["is_latest"] for v in node.versions] == [False, True]


def test_presigned_url_is_url_with_expires_in(storage: StorageManager) -> None:
    storage.node("mem:f").write("x")
    assert storage.node("mem:f").url(expires_in=60) is None


def test_fsspec_backend_lives_in_its_module() -> None:
    from genro_storage.backends.fsspec import FsspecBackend

    assert FsspecBackend.__module__ == "genro_storage.backends.fsspec"
