"""``copy_to()``'s one-step copy (``quick_copy``) through relative and permission mounts.

A relative mount (``parent:sub``) or a ``permissions`` key wraps the backend; the
one-step copy of local disks and memory mounts is asked through the wrapper, with both
ends mapped to the innermost backend's paths. It must end as the engine's general route
ends: same files, same errors (a read-only destination, a mount root), case by case.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends.local import LocalStorage
from genro_storage.backends.memory import MemoryBackend
from genro_storage.backends.relative import RelativeMountBackend

CASES = [
    ("b:a.txt", "sub:x.txt"),  # onto a relative mount
    ("sub:in.txt", "b:y.txt"),  # from a relative mount
    ("sub:in.txt", "sub:deep/z.txt"),  # within one (parents made)
    ("b:a.txt", "rw:x.txt"),  # onto a read-write relative mount
    ("b:a.txt", "ro:x.txt"),  # onto a read-only one: refused
    ("b:a.txt", "perm:p.txt"),  # onto a mount with a permissions key
    ("b:a.txt", "roperm:p.txt"),  # onto a read-only permissions key: refused
    ("b:a.txt", "sub:"),  # onto a relative mount's root: lands inside
    ("b:a.txt", "sub:folder"),  # onto a folder: lands inside
    ("sub:missing.txt", "b:m.txt"),  # "Source not found"
    ("sub:", "b:tree"),  # a relative mount's root: a tree
    ("ro:r.txt", "sub:from_ro.txt"),  # read-only mounts are read as usual
]


def _run(kind: str, tmp_path: Path, src: str, dest: str, quick: bool) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        if not quick:
            for cls in (LocalStorage, MemoryBackend, RelativeMountBackend):
                patch.setattr(cls, "quick_copy", lambda *a: False)
        if kind == "local":
            root = tmp_path / ("quick" if quick else "general")
            root.mkdir()
            base: dict[str, Any] = {"type": "local", "path": str(root)}
        else:
            base = {"type": "memory", "base_path": f"rel-{uuid.uuid4().hex[:8]}"}
        manager = StorageManager(env=False)
        manager.configure(
            [
                {"name": "b", **base},
                {"name": "perm", **base, "permissions": "readwrite"},
                {"name": "roperm", **base, "permissions": "readonly"},
            ]
        )
        for name in ("a.txt", "sub/in.txt", "sub/folder/f.txt", "ro/r.txt", "rw/.keep"):
            manager.node(f"b:{name}").write_bytes(name.encode())
        manager.configure(
            [
                {"name": "sub", "path": "b:sub"},
                {"name": "ro", "path": "b:ro", "permissions": "readonly"},
                {"name": "rw", "path": "b:rw", "permissions": "readwrite"},
            ]
        )
        try:
            manager.node(src).copy_to(dest)
            error = None
        except Exception as exc:
            error = (type(exc), str(exc).split(":", 1)[0])
        files = {
            str(node.path): node.read_bytes()
            for node, entry in manager.node("b:").walk()
            if not entry.is_dir
        }
        return error, files


@pytest.mark.parametrize("kind", ["local", "memory"])
@pytest.mark.parametrize(("src", "dest"), CASES)
def test_quick_copies_through_wrappers_end_as_the_general_route_ends(
    tmp_path: Path, kind: str, src: str, dest: str
) -> None:
    assert _run(kind, tmp_path, src, dest, True) == _run(kind, tmp_path, src, dest, False)


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_a_plain_copy_through_a_relative_mount_takes_the_quick_route(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genro_storage.engine import copying

    base: dict[str, Any] = (
        {"type": "local", "path": str(tmp_path)}
        if kind == "local"
        else {"type": "memory", "base_path": f"rel-{uuid.uuid4().hex[:8]}"}
    )
    manager = StorageManager(env=False)
    manager.configure([{"name": "b", **base}])
    manager.node("b:sub/a.txt").write_bytes(b"a")
    manager.configure(
        [
            {"name": "sub", "path": "b:sub"},
            {"name": "perm", **base, "permissions": "readwrite"},
        ]
    )
    monkeypatch.setattr(copying, "copy", lambda *a, **k: pytest.fail("general route"))
    manager.node("sub:a.txt").copy_to("sub:b.txt")
    manager.node("sub:b.txt").copy_to("perm:c.txt")
    assert manager.node("b:c.txt").read_bytes() == b"a"
