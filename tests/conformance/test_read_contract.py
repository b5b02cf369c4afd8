"""The read half of the backend contract, run against every backend (writable or not).

Each backend holds the same fixture (``data.TREE`` and a 50 MiB file under ``tree/``),
built in its own native format; every test reads it through the public node API.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from genro_storage import StorageError
from tests.conformance.conftest import FLAT_LIMIT, Mount, peak_memory
from tests.conformance.data import BIG_NAME, BIG_SIZE, TREE, TREE_DIRS, big_md5, md5

UNICODE = "dir with spaces/\u00f1and\u00fa \u00fc.txt"


def test_every_fixture_file_exists_as_a_file(tree_mount: Mount) -> None:
    for rel in TREE:
        node = tree_mount.node(f"tree/{rel}")
        assert node.exists, rel
        assert node.isfile, rel
        assert not node.isdir, rel


def test_directories_are_directories(tree_mount: Mount) -> None:
    for rel in ("", "tree", *(f"tree/{d}" for d in TREE_DIRS)):
        node = tree_mount.node(rel)
        assert node.exists, rel
        assert node.isdir, rel
        assert not node.isfile, rel


def test_missing_paths_do_not_exist(tree_mount: Mount) -> None:
    node = tree_mount.node("tree/no such file.txt")
    assert not node.exists
    assert not node.isfile
    assert not node.isdir


def test_reading_a_missing_file_raises_file_not_found(tree_mount: Mount) -> None:
    with pytest.raises(FileNotFoundError):
        tree_mount.node("tree/missing.txt").read_bytes()


def test_size_matches_content(tree_mount: Mount) -> None:
    for rel, data in TREE.items():
        assert tree_mount.node(f"tree/{rel}").size == len(data), rel


def test_read_bytes_and_text(tree_mount: Mount) -> None:
    for rel, data in TREE.items():
        assert tree_mount.node(f"tree/{rel}").read("rb") == data, rel
    assert tree_mount.node("tree/a.txt").read() == "hello world\n"
    with tree_mount.node("tree/a.txt").open("r") as fh:
        assert fh.read() == "hello world\n"


def test_unicode_and_spaces_in_names(tree_mount: Mount) -> None:
    node = tree_mount.node(f"tree/{UNICODE}")
    assert node.basename == "\u00f1and\u00fa \u00fc.txt"
    assert node.read() == "\u00f1and\u00fa \u00fc \u2713\n"
    names = [child.basename for child in tree_mount.node("tree/dir with spaces").children()]
    assert names == ["\u00f1and\u00fa \u00fc.txt"]


def test_empty_file(tree_mount: Mount) -> None:
    node = tree_mount.node("tree/empty.txt")
    assert node.exists and node.isfile
    assert node.size == 0
    assert node.read() == ""
    assert node.md5hash == "d41d8cd98f00b204e9800998ecf8427e"


def test_listing_root_and_nested(tree_mount: Mount) -> None:
    top = {child.basename for child in tree_mount.node("tree").children()}
    assert top == {"a.txt", "empty.txt", "dir with spaces", "sub", "big"}
    nested = {child.basename for child in tree_mount.node("tree/sub").children()}
    assert nested == {"note.md", "deep"}
    child = tree_mount.node("tree/sub").children()[0]
    assert child.fullpath.startswith(f"{tree_mount.name}:tree/sub/")


def test_walk_yields_the_whole_tree_with_sizes(tree_mount: Mount) -> None:
    found = {entry.path: entry for _, entry in tree_mount.node("tree").walk() if not entry.is_dir}
    expected = {f"tree/{rel}": len(data) for rel, data in TREE.items()}
    expected[f"tree/{BIG_NAME}"] = BIG_SIZE
    assert {path: entry.size for path, entry in found.items()} == expected


def test_mtime_is_a_stable_past_timestamp(tree_mount: Mount) -> None:
    node = tree_mount.node("tree/a.txt")
    first = node.mtime
    assert isinstance(first, float)
    assert 946684800 < first <= time.time() + 5  # after 2000, not in the future
    assert node.mtime == first


def test_md5hash_matches_content(tree_mount: Mount) -> None:
    for rel, data in TREE.items():
        assert tree_mount.node(f"tree/{rel}").md5hash == md5(data), rel


def test_md5hash_of_a_directory_is_refused(tree_mount: Mount) -> None:
    with pytest.raises(ValueError, match="directory"):
        _ = tree_mount.node("tree/sub").md5hash


def test_read_range(tree_mount: Mount) -> None:
    data = TREE["sub/deep/data.bin"]
    assert tree_mount.node("tree/sub/deep/data.bin").read_range(1000, 1300) == data[1000:1300]


def test_open_binary_seek_and_read(tree_mount: Mount) -> None:
    data = TREE["sub/deep/data.bin"]
    with tree_mount.node("tree/sub/deep/data.bin").open("rb") as fh:
        assert fh.read(10) == data[:10]
        fh.seek(5000)
        assert fh.read(100) == data[5000:5100]


def test_copy_tree_to_local(tree_mount: Mount) -> None:
    dest = tree_mount.local("copy")
    tree_mount.node("tree/sub").copy_to(dest)
    assert dest.child("note.md").read("rb") == TREE["sub/note.md"]
    assert dest.child("deep/data.bin").read("rb") == TREE["sub/deep/data.bin"]


def test_copy_single_files_to_local(tree_mount: Mount) -> None:
    for rel, data in TREE.items():
        target = tree_mount.local(f"single/{rel}")
        tree_mount.node(f"tree/{rel}").copy_to(target)
        assert target.read("rb") == data, rel


@pytest.mark.parametrize("skip", ["exists", "size", "hash"])
def test_second_copy_to_local_skips_everything(tree_mount: Mount, skip: str) -> None:
    src, dest = tree_mount.node("tree/sub"), tree_mount.local(f"skip-{skip}")
    src.copy_to(dest)
    copied: list[str] = []
    skipped: list[tuple[str, str]] = []
    src.copy_to(
        dest,
        skip=skip,
        on_file=lambda n: copied.append(n.path),
        on_skip=lambda n, why: skipped.append((n.path, why)),
    )
    assert copied == []
    assert sorted(p for p, _ in skipped) == ["tree/sub/deep/data.bin", "tree/sub/note.md"]
    word = {"exists": "exists", "size": "same size", "hash": "same content"}[skip]
    assert all(word in why for _, why in skipped)


def test_hash_skip_copies_a_changed_file(tree_mount: Mount) -> None:
    src, dest = tree_mount.node("tree/sub"), tree_mount.local("changed")
    src.copy_to(dest)
    dest.child("note.md").write_bytes(b"# NOTE\n")  # same size, other content
    copied: list[str] = []
    src.copy_to(dest, skip="hash", on_file=lambda n: copied.append(n.path))
    assert copied == ["tree/sub/note.md"]
    assert dest.child("note.md").read("rb") == TREE["sub/note.md"]


@pytest.mark.slow
def test_big_file_streams_with_flat_memory(tree_mount: Mount) -> None:
    node = tree_mount.node(f"tree/{BIG_NAME}")
    assert node.size == BIG_SIZE
    with node.open("rb") as fh:  # a driver's first read imports its modules: not measured
        fh.read(1)
    digest = hashlib.md5()
    with peak_memory() as mem:
        for chunk in node.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == big_md5()
    reason = tree_mount.deviation("big_memory")
    if reason:
        pytest.xfail(f"{tree_mount.target.name}: {reason} (peak {mem['peak'] >> 20} MiB)")
    assert mem["peak"] < FLAT_LIMIT, f"peak {mem['peak'] >> 20} MiB"


@pytest.mark.slow
def test_big_file_copies_to_local_with_flat_memory(tree_mount: Mount) -> None:
    dest = tree_mount.local("big.bin")
    with peak_memory() as mem:
        tree_mount.node(f"tree/{BIG_NAME}").copy_to(dest)
    assert dest.size == BIG_SIZE
    assert dest.md5hash == big_md5()
    if tree_mount.deviation("big_memory"):
        pytest.xfail(f"{tree_mount.target.name}: {tree_mount.deviation('big_memory')}")
    assert mem["peak"] < FLAT_LIMIT, f"peak {mem['peak'] >> 20} MiB"


def test_read_only_backends_refuse_writes_and_say_so(tree_mount: Mount) -> None:
    if tree_mount.target.writable:
        assert not tree_mount.node().capabilities.readonly
        return
    caps = tree_mount.node().capabilities
    assert caps.readonly and not caps.write and not caps.delete
    with pytest.raises(StorageError):
        tree_mount.node("tree/new.txt").write("nope")
    with pytest.raises(StorageError):
        tree_mount.node("tree/a.txt").delete()
    assert tree_mount.node("tree/a.txt").read() == "hello world\n"
