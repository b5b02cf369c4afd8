"""0.4.2 compatibility, docs/copy-strategies.md: copy_to, move_to and SkipStrategy semantics."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import pytest

from genro_storage import SkipStrategy, StorageManager, StorageNode


def make_tree(storage: StorageManager, where: str, files: dict[str, str] | None = None) -> None:
    for rel, text in (
        files
        or {
            "a.py": "a",
            "test_a.py": "t",
            "b.txt": "bb",
            "sub/c.py": "ccc",
            "sub/test_c.py": "tc",
            "sub/deep/d.txt": "dddd",
            "__pycache__/x.pyc": "x",
        }
    ).items():
        storage.node(f"{where}/{rel}").write(text)


def files_under(node: StorageNode) -> dict[str, str]:
    out: dict[str, str] = {}
    for child, entry in node.walk():
        if not entry.is_dir:
            out[entry.path[len(node.path or "") :].lstrip("/")] = child.read()  # type: ignore[assignment]
    return out


# ================================================================ signature and return value
def test_copy_to_signature() -> None:
    params = inspect.signature(StorageNode.copy_to).parameters
    defaults = {name: p.default for name, p in params.items() if name not in ("self", "dest")}
    assert defaults.pop("skip") == "never"
    for name in ("include", "exclude", "filter", "skip_fn", "progress", "on_file", "on_skip"):
        assert defaults.pop(name) is None, name
    assert all(params[n].kind is not inspect.Parameter.KEYWORD_ONLY for n in ("dest", "include"))


def test_move_to_signature() -> None:
    assert list(inspect.signature(StorageNode.move_to).parameters) == ["self", "dest"]


@pytest.mark.parametrize("tracked", [False, True])
def test_copy_returns_the_dest_object(storage: StorageManager, tracked: bool) -> None:
    make_tree(storage, "mem:src")
    extra: dict[str, Any] = {"on_file": lambda n: None} if tracked else {}
    dest = storage.node("home:out")
    assert storage.node("mem:src").copy_to(dest, **extra) is dest
    single = storage.node("home:single.txt")
    assert storage.node("mem:src/a.py").copy_to(single, **extra) is single


def test_string_dest_is_resolved_by_the_manager(storage: StorageManager) -> None:
    storage.node("mem:f.txt").write("x")
    result = storage.node("mem:f.txt").copy_to("home:dir/f.txt")
    assert isinstance(result, StorageNode) and result.fullpath == "home:dir/f.txt"


# ================================================================ processing order
def test_virtual_source_ignores_every_other_argument(storage: StorageManager) -> None:
    storage.node("mem:p").write("part")
    joined = storage.iternode(storage.node("mem:p"), storage.node("mem:p"))
    calls: list[Any] = []
    dest = joined.copy_to(
        "home:v.txt",
        include="*.nomatch",
        skip="custom",  # no skip_fn: not even validated
        on_file=calls.append,
        progress=lambda *a: calls.append(a),
    )
    assert dest.read() == "partpart" and calls == []


def test_missing_source_message(storage: StorageManager) -> None:
    with pytest.raises(FileNotFoundError, match=r"^Source not found: mem:ghost/x$"):
        storage.node("mem:ghost/x").copy_to("home:x")


def test_custom_without_skip_fn(storage: StorageManager) -> None:
    storage.node("mem:f").write("x")
    with pytest.raises(ValueError, match=r"skip='custom' requires skip_fn"):
        storage.node("mem:f").copy_to("home:f", skip=SkipStrategy.CUSTOM)


@pytest.mark.parametrize("skip", ["sometimes", "EXISTS", ""])
def test_unknown_skip_values_raise(storage: StorageManager, skip: str) -> None:
    # 0.5 differs: 0.4.2 treated unknown values like 'never'
    storage.node("mem:f").write("x")
    with pytest.raises(ValueError):
        storage.node("mem:f").copy_to("home:f", skip=skip)


# ================================================================ simple copy
@pytest.mark.parametrize(("src", "dst"), [("mem", "home"), ("home", "mem"), ("mem", "mem")])
def test_directory_onto_missing_dest_gets_the_contents(
    storage: StorageManager, src: str, dst: str
) -> None:
    make_tree(storage, f"{src}:tree")
    storage.node(f"{src}:tree").copy_to(f"{dst}:copy")
    assert files_under(storage.node(f"{dst}:copy")) == files_under(storage.node(f"{src}:tree"))


@pytest.mark.parametrize(("src", "dst"), [("mem", "mem"), ("home", "home"), ("mem", "home")])
def test_directory_onto_existing_dest_merges(storage: StorageManager, src: str, dst: str) -> None:
    # deliberate: 0.4.2 nested the tree as dest/<name>/ inside one fsspec filesystem
    make_tree(storage, f"{src}:tree", {"x.txt": "new", "s/y.txt": "y"})
    make_tree(storage, f"{dst}:target", {"x.txt": "old", "keep.txt": "k"})
    storage.node(f"{src}:tree").copy_to(f"{dst}:target")
    assert files_under(storage.node(f"{dst}:target")) == {
        "x.txt": "new",
        "s/y.txt": "y",
        "keep.txt": "k",
    }


@pytest.mark.parametrize(("src", "dst"), [("mem", "mem"), ("home", "home"), ("home", "mem")])
def test_file_onto_existing_directory_lands_inside(
    storage: StorageManager, src: str, dst: str
) -> None:
    storage.node(f"{src}:f.txt").write("x")
    storage.node(f"{dst}:box").mkdir()
    result = storage.node(f"{src}:f.txt").copy_to(f"{dst}:box")
    assert result.fullpath == f"{dst}:box" and result.isdir  # [Q] kept
    assert storage.node(f"{dst}:box/f.txt").read() == "x"


def test_simple_copy_overwrites_files(storage: StorageManager) -> None:
    storage.node("mem:f").write("new")
    storage.node("home:f").write("old content")
    storage.node("mem:f").copy_to("home:f")
    assert storage.node("home:f").read() == "new"


# ================================================================ tracked copy
def test_tracked_single_file_ignores_filters_and_progress(storage: StorageManager) -> None:
    storage.node("mem:f.txt").write("x")
    events: list[Any] = []
    storage.node("mem:f.txt").copy_to(
        "home:f.txt",
        include="*.nomatch",
        exclude="*",
        filter=lambda n, r: False,
        progress=lambda *a: events.append(("progress", a)),
        on_file=lambda n: events.append(("file", n.fullpath)),
    )
    assert storage.node("home:f.txt").read() == "x"
    assert events == [("file", "mem:f.txt")]


def test_tracked_tree_mirrors_every_directory(storage: StorageManager) -> None:
    make_tree(storage, "mem:src")
    storage.node("mem:src").copy_to("home:out", include="*.nomatch")
    out = storage.node("home:out")
    assert out.isdir and files_under(out) == {}
    for sub in ("sub", "sub/deep", "__pycache__"):
        assert out.child(sub).isdir, sub


def test_filter_receives_node_and_posix_relative_path(storage: StorageManager) -> None:
    make_tree(storage, "mem:src")
    seen: list[tuple[str, str]] = []

    def keep(node: StorageNode, rel: str) -> bool:
        seen.append((node.fullpath, rel))
        return True

    storage.node("mem:src").copy_to("home:o", filter=keep)
    assert ("mem:src/sub/deep/d.txt", "sub/deep/d.txt") in seen
    assert all(not rel.startswith("/") for _, rel in seen)
    assert len(seen) == 7


@pytest.mark.parametrize(
    ("kwargs", "kept"),
    [
        ({"include": "*.py"}, {"a.py", "test_a.py", "sub/c.py", "sub/test_c.py"}),
        ({"include": "test_*.py"}, {"test_a.py"}),  # '*' matches '/', but the prefix anchors
        ({"include": ["*.txt", "*.pyc"]}, {"b.txt", "sub/deep/d.txt", "__pycache__/x.pyc"}),
        (
            {"exclude": "__pycache__/*"},
            {"a.py", "test_a.py", "b.txt", "sub/c.py", "sub/test_c.py", "sub/deep/d.txt"},
        ),
        ({"include": "*.py", "exclude": ["*test_*"]}, {"a.py", "sub/c.py"}),
        ({"include": "sub/*"}, {"sub/c.py", "sub/test_c.py", "sub/deep/d.txt"}),
    ],
)
def test_fnmatch_patterns_on_relative_paths(
    storage: StorageManager, kwargs: dict[str, Any], kept: set[str]
) -> None:
    make_tree(storage, "mem:src")
    storage.node("mem:src").copy_to("home:o", **kwargs)
    assert set(files_under(storage.node("home:o"))) == kept


def test_filter_reasons_and_order(storage: StorageManager) -> None:
    make_tree(storage, "mem:src")
    events: list[tuple[str, str, str]] = []
    storage.node("mem:src").copy_to(
        "home:o",
        include=["*.py", "*.txt"],
        exclude="*test_*",
        filter=lambda n, rel: rel != "b.txt",
        on_skip=lambda n, reason: events.append(("skip", n.basename, reason)),
        on_file=lambda n: events.append(("file", n.basename, "")),
    )
    skips = {name: reason for kind, name, reason in events if kind == "skip"}
    assert skips == {
        "x.pyc": "not matching include patterns",
        "test_a.py": "matching exclude pattern '*test_*'",
        "test_c.py": "matching exclude pattern '*test_*'",
        "b.txt": "filtered by custom function",
    }
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["skip"] * 4 + ["file"] * 3  # filtered files are reported during the walk


def test_filter_exception_message(storage: StorageManager) -> None:
    storage.node("mem:src/a").write("a")
    reasons: list[str] = []

    def bad(node: StorageNode, rel: str) -> bool:
        raise KeyError("nope")

    storage.node("mem:src").copy_to("home:o", filter=bad, on_skip=lambda n, r: reasons.append(r))
    assert reasons == ["filter error: 'nope'"]


def test_progress_follows_copied_and_skipped_files(storage: StorageManager) -> None:
    make_tree(storage, "mem:src")
    storage.node("mem:src").copy_to("home:o")
    storage.node("mem:src/new.txt").write("new")
    calls: list[tuple[int, int]] = []
    copied: list[str] = []
    storage.node("mem:src").copy_to(
        "home:o",
        skip="exists",
        exclude="__pycache__/*",
        progress=lambda i, total: calls.append((i, total)),
        on_file=lambda n: copied.append(n.basename),
    )
    assert calls == [(i, 7) for i in range(1, 8)]
    assert copied == ["new.txt"]


def test_skip_only_applies_when_dest_exists(storage: StorageManager) -> None:
    storage.node("mem:one.txt").write("x")
    called: list[Any] = []
    storage.node("mem:one.txt").copy_to(
        "home:one.txt", skip="custom", skip_fn=lambda s, d: called.append(1) or True
    )
    assert called == [] and storage.node("home:one.txt").read() == "x"


def test_errors_while_comparing_mean_copy(storage: StorageManager) -> None:
    storage.node("mem:src/f").write("new")
    storage.node("home:dst/f").write("old")

    def explode(src: StorageNode, dest: StorageNode) -> bool:
        raise RuntimeError("comparison failed")

    copied: list[str] = []
    storage.node("mem:src").copy_to(
        "home:dst", skip="custom", skip_fn=explode, on_file=lambda n: copied.append(n.basename)
    )
    assert copied == ["f"] and storage.node("home:dst/f").read() == "new"


# ================================================================ skip strategies
ABCD_MD5 = hashlib.md5(b"abcd").hexdigest()


@pytest.mark.parametrize(
    ("skip", "dest_text", "expected_reason"),
    [
        ("exists", "anything", "destination exists"),
        (SkipStrategy.EXISTS, "anything", "destination exists"),
        ("size", "WXYZ", "same size (4 bytes)"),
        (SkipStrategy.SIZE, "WXYZ", "same size (4 bytes)"),
        ("hash", "abcd", f"same content (MD5: {ABCD_MD5[:8]}...)"),
        (SkipStrategy.HASH, "abcd", f"same content (MD5: {ABCD_MD5[:8]}...)"),
    ],
)
@pytest.mark.parametrize("single", [True, False])
def test_skip_reasons(
    storage: StorageManager, skip: Any, dest_text: str, expected_reason: str, single: bool
) -> None:
    storage.node("mem:src/f.txt").write("abcd")
    storage.node("home:dst/f.txt").write(dest_text)
    reasons: list[tuple[str, str]] = []
    src = storage.node("mem:src/f.txt" if single else "mem:src")
    dst = storage.node("home:dst/f.txt" if single else "home:dst")
    src.copy_to(dst, skip=skip, on_skip=lambda n, r: reasons.append((n.fullpath, r)))
    assert reasons == [("mem:src/f.txt", expected_reason)]
    assert storage.node("home:dst/f.txt").read() == dest_text


def test_custom_skip_reason_and_arguments(storage: StorageManager) -> None:
    storage.node("mem:src/f.txt").write("a")
    storage.node("home:dst/f.txt").write("b")
    seen: list[tuple[str, str]] = []
    reasons: list[str] = []

    def decide(src: StorageNode, dest: StorageNode) -> bool:
        seen.append((src.fullpath, dest.fullpath))
        return True

    storage.node("mem:src").copy_to(
        "home:dst", skip="custom", skip_fn=decide, on_skip=lambda n, r: reasons.append(r)
    )
    assert seen == [("mem:src/f.txt", "home:dst/f.txt")]
    assert reasons == ["custom function returned True"]


@pytest.mark.parametrize(("skip", "dest_text"), [("size", "abc"), ("hash", "abce")])
def test_skip_strategies_copy_when_different(
    storage: StorageManager, skip: str, dest_text: str
) -> None:
    storage.node("mem:f.txt").write("abcd")
    storage.node("home:f.txt").write(dest_text)
    storage.node("mem:f.txt").copy_to("home:f.txt", skip=skip)
    assert storage.node("home:f.txt").read() == "abcd"


# ================================================================ base64 destination
@pytest.mark.parametrize("src_mount", ["home", "mem"])
def test_copy_into_base64_sets_the_payload(storage: StorageManager, src_mount: str) -> None:
    # 0.5 differs: 0.4.2 lost the data when the source was a local mount
    storage.node(f"{src_mount}:img.bin").write(b"\x00\x01\xff", "wb")
    target = storage.node("data:")
    storage.node(f"{src_mount}:img.bin").copy_to(target)
    assert target.path == "AAH/" and target.read("rb") == b"\x00\x01\xff"


# ================================================================ move_to
def test_move_mutates_the_node_in_place(storage: StorageManager) -> None:
    node = storage.node("mem:m/f.txt")
    node.write("moving")
    dest = storage.node("home:moved.txt")
    result = node.move_to(dest)
    assert result is node and node is not dest
    assert node.fullpath == "home:moved.txt"
    assert node._mount_name == "home" and node._backend is storage._mounts["home"]
    assert node.read() == "moving" and not storage.node("mem:m/f.txt").exists


def test_move_directory_with_string_dest(storage: StorageManager) -> None:
    make_tree(storage, "home:t", {"a": "1", "s/b": "2"})
    node = storage.node("home:t")
    node.move_to("mem:t2")
    assert node.fullpath == "mem:t2" and files_under(node) == {"a": "1", "s/b": "2"}
    assert not storage.node("home:t").exists


def test_move_within_a_mount(storage: StorageManager) -> None:
    node = storage.node("home:a.txt")
    node.write("same mount")
    node.move_to("home:sub/b.txt")
    assert node.path == "sub/b.txt" and not storage.node("home:a.txt").exists


def test_move_from_base64_is_refused_before_copying(storage: StorageManager) -> None:
    # 0.4.2 copied, then failed to delete the base64 source and left the copy [Q];
    # like the permission check, the refusal now comes before any copy
    node = storage.node("data:aGk=")
    with pytest.raises(PermissionError, match="read-only"):
        node.move_to("mem:from64.txt")
    assert not storage.node("mem:from64.txt").exists
    assert node.fullpath == "data:aGk="
