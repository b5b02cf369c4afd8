"""Deleting through links and mount roots: links are removed, never followed.

Local mounts here; the same guarantees on SFTP against the real sshd
(``test_sftp_delete_*``), whose served directory is on this machine's disk.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.errors import MountRootError, PathTraversalError, StoragePermissionError
from tests.services import require_services


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "keep.txt").write_text("keep")
    (root / "top.txt").write_text("top")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret")
    return root


@pytest.fixture
def storage(tree: Path) -> StorageManager:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "local", "path": str(tree)}])
    return manager


@pytest.mark.parametrize("spelling", ["m:", "m:.", "m:./", "m:./.", "m:/", "m://."])
def test_local_mount_root_is_never_deleted(
    storage: StorageManager, tree: Path, spelling: str
) -> None:
    with pytest.raises(StoragePermissionError, match="mount 'm'"):
        storage.node(spelling).delete()
    with pytest.raises(MountRootError):
        storage.node("m:", "./").delete()
    assert (tree / "top.txt").read_text() == "top"


def test_deleting_a_link_to_a_directory_removes_the_link_only(
    storage: StorageManager, tree: Path
) -> None:
    os.symlink("sub", tree / "sublink")
    storage.node("m:sublink").delete()
    assert not os.path.lexists(tree / "sublink")
    assert (tree / "sub" / "keep.txt").read_text() == "keep"


def test_deleting_a_link_to_the_root_removes_the_link_only(
    storage: StorageManager, tree: Path
) -> None:
    os.symlink(".", tree / "selflink")
    storage.node("m:selflink").delete()
    assert not os.path.lexists(tree / "selflink")
    assert (tree / "top.txt").exists() and (tree / "sub" / "keep.txt").exists()


def test_a_recursive_delete_never_descends_through_a_link(
    storage: StorageManager, tree: Path
) -> None:
    (tree / "victim").mkdir()
    os.symlink(tree / "sub", tree / "victim" / "inner")
    os.symlink(tree.parent / "outside", tree / "victim" / "out")
    storage.node("m:victim").delete()
    assert not (tree / "victim").exists()
    assert (tree / "sub" / "keep.txt").read_text() == "keep"
    assert (tree.parent / "outside" / "secret.txt").read_text() == "secret"


def test_a_write_onto_the_root_through_a_link_fails_with_no_temp_file(
    storage: StorageManager, tree: Path
) -> None:
    os.symlink(".", tree / "selflink")
    before = sorted(os.listdir(tree.parent))
    for spelling in ("m:", "m:.", "m:selflink"):
        with pytest.raises(IsADirectoryError, match="mount 'm'"):
            storage.node(spelling).open("wb")
    assert sorted(os.listdir(tree.parent)) == before  # nothing beside the root
    assert sorted(os.listdir(tree)) == ["selflink", "sub", "top.txt"]


def test_relative_mount_contains_links_against_its_own_root(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "public").mkdir(parents=True)
    (site / "site_secret.txt").write_text("secret")
    (site / "public" / "index.html").write_text("hello")
    os.symlink("../site_secret.txt", site / "public" / "up")
    manager = StorageManager()
    manager.configure(
        [
            {"name": "site", "type": "local", "path": str(site)},
            {"name": "pub", "path": "site:public", "permissions": "readonly"},
        ]
    )
    assert manager.node("pub:index.html").read() == "hello"
    with pytest.raises(PathTraversalError):
        manager.node("pub:up").read()
    with pytest.raises(PathTraversalError):
        manager.node("pub:up").open("rb")
    assert manager.node("site:public/up").read() == "secret"  # the parent may follow it


def test_relative_mount_root_is_never_deleted(tmp_path: Path) -> None:
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "sub" / "f.txt").write_text("f")
    manager = StorageManager()
    manager.configure(
        [
            {"name": "data", "type": "local", "path": str(tmp_path / "data")},
            {"name": "rel", "path": "data:sub"},
            {"name": "mem", "type": "memory", "base_path": f"links-{uuid.uuid4().hex}"},
            {"name": "memrel", "path": "mem:inner"},
        ]
    )
    manager.node("mem:inner/f.txt").write("f")
    for spelling in ("rel:", "rel:.", "rel:./", "memrel:", "memrel:./.", "mem:."):
        with pytest.raises(MountRootError, match=repr(spelling.split(":")[0])):
            manager.node(spelling).delete()
    assert (tmp_path / "data" / "sub" / "f.txt").exists()
    assert manager.node("mem:inner/f.txt").read() == "f"


# ---------------------------------------------------------------- SFTP (real sshd)
def _sftp(tmp_name: str) -> tuple[StorageManager, Path]:
    env = require_services("sftp")
    root = Path(env["SVC_SFTP_ROOT"]) / f"links-{uuid.uuid4().hex[:10]}"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "keep.txt").write_text("keep")
    manager = StorageManager()
    manager.configure(
        [
            {
                "name": "s",
                "type": "sftp",
                "host": env["SVC_SFTP_HOST"],
                "port": int(env["SVC_SFTP_PORT"]),
                "username": env["SVC_SFTP_USER"],
                "password": env["SVC_SFTP_PASSWORD"],
                "path": str(root),
            }
        ]
    )
    return manager, root


@pytest.mark.services
def test_sftp_delete_removes_links_not_their_targets(tmp_path: Path) -> None:
    manager, root = _sftp(tmp_path.name)
    try:
        os.symlink("sub", root / "sublink")
        os.symlink(".", root / "selflink")
        (root / "victim").mkdir()
        os.symlink(root / "sub", root / "victim" / "inner")
        for folder in (root, root / "sub", root / "victim"):
            folder.chmod(0o777)  # sshd's user is not this test's
        manager.node("s:sublink").delete()
        manager.node("s:selflink").delete()
        manager.node("s:victim").delete()
        assert sorted(os.listdir(root)) == ["sub"]
        assert (root / "sub" / "keep.txt").read_text() == "keep"
        for spelling in ("s:", "s:.", "s:./"):
            with pytest.raises(MountRootError, match="'s'"):
                manager.node(spelling).delete()
        assert (root / "sub" / "keep.txt").exists()
    finally:
        manager.close()


@pytest.mark.services
def test_sftp_reads_never_follow_a_link_out_of_the_mount(tmp_path: Path) -> None:
    """Links to a canary file and folder next to the root: refused on read, open, list."""
    manager, root = _sftp(tmp_path.name)
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    canary = root.parent / f"{root.name}-canary.txt"
    try:
        canary.write_text("SECRET")
        (outside / "leak.txt").write_text("SECRET")
        for item in (canary, outside / "leak.txt"):
            item.chmod(0o644)
        outside.chmod(0o755)
        os.symlink(canary, root / "out.txt")
        os.symlink(outside, root / "outdir")
        os.symlink("keep.txt", root / "sub" / "inside.txt")  # stays inside: allowed
        (tmp_path / "dest").mkdir()
        manager.add_mount({"name": "t", "type": "local", "path": str(tmp_path / "dest")})
        for path in ("s:out.txt", "s:outdir/leak.txt"):
            node = manager.node(path)
            with pytest.raises(PathTraversalError, match="'s'"):
                node.read_bytes()
            with pytest.raises(PathTraversalError, match="'s'"):
                node.open("rb")
            with pytest.raises(PathTraversalError, match="'s'"):
                list(node.iter_bytes())
            for attr in ("exists", "size", "mtime", "md5hash"):
                with pytest.raises(PathTraversalError, match="'s'"):
                    getattr(node, attr)
            with pytest.raises(PathTraversalError, match="'s'"):
                node.copy_to(manager.node("t:copy.txt"))
            with pytest.raises(PathTraversalError, match="'s'"):  # noqa: SIM117
                with node.local_path():
                    pass
            assert not (tmp_path / "dest" / "copy.txt").exists()
        with pytest.raises(PathTraversalError, match="'s'"):
            manager.node("s:outdir").children()
        assert manager.node("s:sub/inside.txt").read_text() == "keep"
        assert manager.node("s:sub/keep.txt").read_text() == "keep"
        assert sorted(n.basename for n in manager.node("s:").children()) == [
            "out.txt",
            "outdir",
            "sub",
        ]
        assert canary.read_text() == "SECRET"
    finally:
        manager.close()
        canary.unlink(missing_ok=True)
