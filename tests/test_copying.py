"""copy_to / move_to on the embedded backends: simple and tracked copies, skips, filters."""

from __future__ import annotations

import pytest

from genro_storage import SkipStrategy, StorageManager
from genro_storage.errors import CopyError

PAIRS = [("home", "mem"), ("mem", "home"), ("home", "home"), ("mem", "mem")]


@pytest.fixture(params=PAIRS, ids=lambda p: f"{p[0]}-to-{p[1]}")
def pair(request: pytest.FixtureRequest, storage: StorageManager) -> tuple[str, str]:
    return request.param


def make_tree(storage: StorageManager, where: str) -> None:
    for rel, text in {
        "a.py": "a",
        "b.txt": "bb",
        "sub/c.py": "ccc",
        "sub/deep/d.txt": "dddd",
        "__pycache__/x.pyc": "x",
    }.items():
        storage.node(f"{where}/{rel}").write(text)


def tree(storage: StorageManager, where: str) -> dict[str, str]:
    root = storage.node(where)
    out = {}
    for node, entry in root.walk():
        if not entry.is_dir:
            out[entry.path[len(root.path or "") :].lstrip("/")] = node.read()
    return out


def test_copy_file_returns_dest_object(storage: StorageManager, pair: tuple[str, str]) -> None:
    src_mount, dst_mount = pair
    src = storage.node(f"{src_mount}:s/f.txt")
    src.write("content")
    dest = storage.node(f"{dst_mount}:d/g.txt")
    assert src.copy_to(dest) is dest
    assert dest.read() == "content" and src.exists


def test_copy_to_string_destination(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("s")
    result = storage.node("home:f.txt").copy_to("mem:g.txt")
    assert result.fullpath == "mem:g.txt" and result.read() == "s"


def test_copy_missing_source(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError, match="Source not found: home:ghost"):
        storage.node("home:ghost").copy_to("mem:x")


def test_copy_tree_merges_into_existing_dest(
    storage: StorageManager, pair: tuple[str, str]
) -> None:
    src_mount, dst_mount = pair
    make_tree(storage, f"{src_mount}:src")
    storage.node(f"{dst_mount}:dst/existing.txt").write("keep")
    storage.node(f"{src_mount}:src").copy_to(storage.node(f"{dst_mount}:dst"))
    copied = tree(storage, f"{dst_mount}:dst")
    assert copied["existing.txt"] == "keep"
    assert copied["sub/deep/d.txt"] == "dddd" and copied["a.py"] == "a"


def test_copy_empty_directory(storage: StorageManager, pair: tuple[str, str]) -> None:
    src_mount, dst_mount = pair
    storage.node(f"{src_mount}:empty").mkdir()
    storage.node(f"{src_mount}:empty").copy_to(f"{dst_mount}:empty-copy")
    assert storage.node(f"{dst_mount}:empty-copy").isdir


def test_file_onto_existing_directory_lands_inside(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:dir").mkdir()
    storage.node("home:f.txt").copy_to("mem:dir")
    assert storage.node("mem:dir/f.txt").read() == "x"


def test_include_exclude_filter_and_reasons(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    skipped: list[tuple[str, str]] = []
    storage.node("home:src").copy_to(
        "mem:out",
        include=["*.py", "*.txt"],
        exclude="__pycache__/*",
        filter=lambda node, rel: not rel.endswith("b.txt"),
        on_skip=lambda node, reason: skipped.append((node.basename, reason)),
    )
    assert sorted(tree(storage, "mem:out")) == ["a.py", "sub/c.py", "sub/deep/d.txt"]
    reasons = dict(skipped)
    assert reasons["b.txt"] == "filtered by custom function"
    assert reasons["x.pyc"] == "not matching include patterns"


def test_exclude_reason_names_the_pattern(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    skipped: dict[str, str] = {}
    storage.node("home:src").copy_to(
        "mem:o", exclude=["*.txt"], on_skip=lambda n, r: skipped.__setitem__(n.basename, r)
    )
    assert skipped["b.txt"] == "matching exclude pattern '*.txt'"
    assert storage.node("mem:o/sub/deep").isdir  # directories are mirrored even when emptied


def test_filter_error_skips_the_file(storage: StorageManager) -> None:
    storage.node("home:src/a.txt").write("a")

    def bad(node: object, rel: str) -> bool:
        raise RuntimeError("boom")

    reasons: list[str] = []
    storage.node("home:src").copy_to("mem:o", filter=bad, on_skip=lambda n, r: reasons.append(r))
    assert reasons == ["filter error: boom"]


def test_progress_counts_every_kept_file_in_order(storage: StorageManager) -> None:
    make_tree(storage, "home:src")
    calls: list[tuple[int, int]] = []
    storage.node("home:src").copy_to("mem:o", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 5) for i in range(1, 6)]


@pytest.mark.parametrize(
    ("skip", "change", "expect_copied", "reason_part"),
    [
        ("exists", "zzzz", False, "destination exists"),
        ("size", "zzzz", False, "same size (4 bytes)"),
        ("size", "zzzzz", True, None),
        ("hash", "zzzz", True, None),
        ("hash", "dddd", False, "same content (MD5: "),
        (SkipStrategy.NEVER, "dddd", True, None),
    ],
)
def test_skip_strategies(
    storage: StorageManager, skip: object, change: str, expect_copied: bool, reason_part: str | None
) -> None:
    storage.node("home:src/d.txt").write("dddd")
    storage.node("mem:dst/d.txt").write(change)
    copied, skipped = [], []
    storage.node("home:src").copy_to(
        "mem:dst",
        skip=skip,  # type: ignore[arg-type]
        on_file=lambda n: copied.append(n.basename),
        on_skip=lambda n, r: skipped.append(r),
    )
    assert (copied == ["d.txt"]) is expect_copied
    if reason_part:
        assert reason_part in skipped[0]
    assert storage.node("mem:dst/d.txt").read() == ("dddd" if expect_copied else change)


def test_skip_custom_requires_function(storage: StorageManager) -> None:
    storage.node("home:f").write("x")
    with pytest.raises(ValueError, match="requires skip_fn"):
        storage.node("home:f").copy_to("mem:f", skip="custom")


def test_skip_custom_called_only_when_dest_exists(storage: StorageManager) -> None:
    storage.node("home:src/a").write("a")
    storage.node("home:src/b").write("b")
    storage.node("mem:dst/a").write("old")
    seen: list[str] = []

    def decide(src: object, dest: object) -> bool:
        seen.append(str(dest))
        return True

    skipped: list[str] = []
    storage.node("home:src").copy_to(
        "mem:dst", skip="custom", skip_fn=decide, on_skip=lambda n, r: skipped.append(r)
    )
    assert seen == ["mem:dst/a"]
    assert skipped == ["custom function returned True"]
    assert storage.node("mem:dst/b").read() == "b"


def test_unknown_skip_value_is_refused(storage: StorageManager) -> None:
    storage.node("home:f").write("x")
    with pytest.raises(ValueError, match="Unknown skip strategy"):
        storage.node("home:f").copy_to("mem:f", skip="sometimes")


def test_single_file_tracked_copy_skips_and_reports(storage: StorageManager) -> None:
    storage.node("home:f.txt").write("x")
    storage.node("mem:f.txt").write("x")
    progress, reasons = [], []
    storage.node("home:f.txt").copy_to(
        "mem:f.txt",
        skip="hash",
        progress=lambda *a: progress.append(a),
        on_skip=lambda n, r: reasons.append(r),
    )
    assert progress == [] and reasons[0].startswith("same content")


def test_failed_files_do_not_abort_the_others(storage: StorageManager) -> None:
    for name in ("a", "b", "c"):
        storage.node(f"home:src/{name}.txt").write(name)
    # a directory where a file should go makes that one file fail
    storage.node("home:dst/b.txt/blocker").write("x")
    with pytest.raises(CopyError) as info:
        storage.node("home:src").copy_to("home:dst", on_file=lambda n: None)
    assert [path for path, _ in info.value.failures] == ["home:src/b.txt"]
    assert "home:src/b.txt" in str(info.value)
    assert storage.node("home:dst/a.txt").read() == "a"
    assert storage.node("home:dst/c.txt").read() == "c"


def test_move_file_mutates_node_in_place(storage: StorageManager) -> None:
    node = storage.node("home:m.txt")
    node.write("move me")
    same = node.move_to("mem:moved/m.txt")
    assert same is node and node.fullpath == "mem:moved/m.txt"
    assert node.read() == "move me" and not storage.node("home:m.txt").exists


def test_move_tree(storage: StorageManager) -> None:
    make_tree(storage, "mem:t")
    storage.node("mem:t").move_to("home:t2")
    assert not storage.node("mem:t").exists
    assert tree(storage, "home:t2")["sub/c.py"] == "ccc"


def test_copy_into_base64_keeps_data(storage: StorageManager) -> None:
    storage.node("home:img.bin").write_bytes(b"\x89PNG")
    target = storage.node("data:")
    storage.node("home:img.bin").copy_to(target)
    assert target.read_bytes() == b"\x89PNG" and target.path == "iVBORw=="


def test_copy_from_base64(storage: StorageManager) -> None:
    storage.node("data:aGk=").copy_to("mem:from64.txt")
    assert storage.node("mem:from64.txt").read() == "hi"
