"""paths.py: normalisation and the traversal refusals, one named test per attack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genro_storage.errors import PathTraversalError
from genro_storage.paths import (
    contain,
    from_url_path,
    join,
    normalize,
    resolve_within,
    split_mount,
)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("a/b/c",), "a/b/c"),
        (("a", "b", "c"), "a/b/c"),
        (("/a//b/",), "a/b"),
        (("",), ""),
        ((), ""),
        (("a/./b",), "a/./b"),
        (("with space/ünïcode.txt",), "with space/ünïcode.txt"),
    ],
)
def test_normalize_joins_and_collapses(parts: tuple[str, ...], expected: str) -> None:
    assert normalize(*parts) == expected


@pytest.mark.parametrize(
    "attack",
    ["..", "../etc/passwd", "a/../../b", "a/..", "..\\..\\windows", "a\\..\\b", "ok/\x00bad"],
    ids=[
        "dotdot",
        "dotdot-prefix",
        "dotdot-middle",
        "dotdot-end",
        "backslash-dotdot",
        "backslash-inner",
        "nul-byte",
    ],
)
def test_normalize_refuses_traversal(attack: str) -> None:
    with pytest.raises(PathTraversalError) as info:
        normalize(attack)
    assert isinstance(info.value, ValueError)


def test_normalize_traversal_message_is_the_compatible_one() -> None:
    with pytest.raises(ValueError, match=r"Parent directory traversal \(\.\.\) is not supported"):
        normalize("a/../b")


def test_normalize_rejects_non_string_parts() -> None:
    with pytest.raises(TypeError):
        normalize("a", 3)  # type: ignore[arg-type]


def test_split_mount_splits_at_first_colon() -> None:
    assert split_mount("a:b:c") == ("a", "b:c")
    assert split_mount("home") == ("home", None)
    assert split_mount("home:") == ("home", "")


@pytest.mark.parametrize(
    ("base", "parts", "expected"),
    [
        ("a", ("b/c",), "a/b/c"),
        ("a", ("b", "c"), "a/b/c"),
        ("", ("x",), "x"),
        ("a/b", ("/z",), "z"),
        ("a", ("b//",), "a/b"),
    ],
)
def test_join_appends_posix_style(base: str, parts: tuple[str, ...], expected: str) -> None:
    assert join(base, *parts) == expected


def test_join_refuses_dotdot() -> None:
    with pytest.raises(PathTraversalError):
        join("a", "..")


@pytest.mark.parametrize(
    "raw",
    [
        "/..%2fetc",
        "%2e%2e/secret",
        "a%2Fb",
        "a%5cb",
        "a%00b",
        "%252e%252e/x",
        "a\\b",
        "/C:/windows",
        "CON",
        "nul.txt",
        "a/../b",
        "./x",
        "a/\x01b",
        "x/" + "n" * 300,
    ],
    ids=[
        "encoded-slash-dotdot",
        "encoded-dots",
        "encoded-slash",
        "encoded-backslash",
        "encoded-nul",
        "double-encoded",
        "backslash",
        "drive-letter",
        "device-con",
        "device-nul-ext",
        "dotdot",
        "dot-segment",
        "control-char",
        "overlong-segment",
    ],
)
def test_from_url_path_refuses_attacks(raw: str) -> None:
    with pytest.raises(PathTraversalError):
        from_url_path(raw)


def test_from_url_path_decodes_legitimate_names() -> None:
    assert from_url_path("/docs/My%20File%C3%A9.txt") == "docs/My Fileé.txt"


def test_contain_keeps_paths_inside(tmp_path: Path) -> None:
    assert contain(tmp_path, "a/b") == Path(os.path.realpath(tmp_path)) / "a" / "b"
    assert contain(tmp_path, "") == Path(os.path.realpath(tmp_path))


def test_contain_refuses_symlink_escaping_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(PathTraversalError, match="escapes"):
        contain(root, "link/secret.txt")


def test_contain_allows_symlink_within_the_root(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert contain(tmp_path, "alias/f").parent.name == "real"


def _tree(tmp_path: Path) -> Path:
    """root/{a/b/f.txt, alias -> a, inner.txt -> a/b/f.txt, out -> ../outside, gone -> x}."""
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("f")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "s.txt").write_text("s")
    (root / "alias").symlink_to(root / "a")
    (root / "inner.txt").symlink_to(root / "a" / "b" / "f.txt")
    (root / "out").symlink_to(tmp_path / "outside")
    (root / "gone").symlink_to(root / "nothing")
    return Path(os.path.realpath(root))


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
@pytest.mark.parametrize(
    "relative",
    ["a", "a/b", "a/b/f.txt", "alias/b/f.txt", "inner.txt", "missing", "a/missing/x",
     "a/b/f.txt/x", "gone", "gone/x", "a/./b", ".", "a//b", "alias", "missing/../a",
     "missing/x/..", "missing//x", "missing/./x"],
)  # fmt: skip
def test_resolve_within_gives_the_real_path_as_realpath_does(tmp_path: Path, relative: str) -> None:
    root = _tree(tmp_path)
    resolved, found = resolve_within(str(root), relative)
    assert resolved == os.path.realpath(root / relative)
    if found is not None:  # the lstat it took on the way is the target's own stat
        assert not os.path.islink(resolved)
        assert found.st_ino == os.stat(resolved).st_ino


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
@pytest.mark.parametrize(
    "relative", ["out", "out/s.txt", "../outside/s.txt", "/etc/passwd", "a/missing/../../out/s.txt"]
)
def test_resolve_within_refuses_what_leaves_the_root(tmp_path: Path, relative: str) -> None:
    with pytest.raises(PathTraversalError, match="escapes"):
        resolve_within(str(_tree(tmp_path)), relative)


def test_resolve_within_takes_one_lstat_per_segment_without_symlinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path)
    calls: list[str] = []
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda p, *a, **k: calls.append(p) or real_lstat(p, *a, **k))
    _, found = resolve_within(str(root), "a/b/f.txt")
    assert calls == [f"{root}/a", f"{root}/a/b", f"{root}/a/b/f.txt"]
    assert found is not None and found.st_size == 1
    calls.clear()  # a missing file: the walk stops at the first missing segment
    assert resolve_within(str(root), "a/new/deeper/f.txt") == (f"{root}/a/new/deeper/f.txt", None)
    assert calls == [f"{root}/a", f"{root}/a/new"]


segment_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(segment_text, max_size=6))
def test_normalized_paths_never_leave_the_mount(tmp_path_factory, parts: list[str]) -> None:
    """Property: whatever the parts, a normalised path resolves inside its root or is refused."""
    root = tmp_path_factory.getbasetemp() / "prop-root"
    root.mkdir(exist_ok=True)
    try:
        rel = normalize(*parts)
    except PathTraversalError:
        return
    assert ".." not in rel.split("/")
    assert "\x00" not in rel
    resolved = Path(os.path.normpath(root / rel)) if rel else root
    assert resolved == root or root in resolved.parents


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_url_paths_never_leave_the_mount(raw: str) -> None:
    try:
        rel = from_url_path(raw)
    except (PathTraversalError, UnicodeDecodeError):
        return
    assert not rel.startswith("/")
    assert ".." not in rel.replace("\\", "/").split("/")
    assert "\x00" not in rel


def test_from_url_path_refuses_invalid_utf8_with_the_one_exception() -> None:
    with pytest.raises(PathTraversalError, match="UTF-8"):
        from_url_path("/a%ffb")


def test_paths_longer_than_path_max_or_too_deep_are_refused() -> None:
    from genro_storage.errors import PathTraversalError
    from genro_storage.paths import normalize

    for hostile in ("x/" * 600, "/".join(["b" * 200] * 25)):
        with pytest.raises(PathTraversalError, match="longer than"):
            normalize(hostile)
    assert normalize("x/" * 500) == "/".join(["x"] * 500)


def test_root_spellings() -> None:
    from genro_storage.paths import canonical, is_root

    for spelling in ("", ".", "./", "./.", "/", "//.", "/./"):
        assert is_root(spelling)
    assert not is_root("a") and not is_root("./a")
    assert canonical("a/./b//c/.") == "a/b/c"


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="ab./\\", max_size=10))
def test_canonical_and_is_root_shortcuts_agree_with_the_segment_rule(path: str) -> None:
    """The fast paths of ``canonical`` and ``is_root`` give what the plain rule gives."""
    from genro_storage.paths import canonical, is_root

    plain = "/".join(s for s in path.split("/") if s not in ("", "."))
    assert canonical(path) == plain
    assert is_root(path) == (plain == "")
