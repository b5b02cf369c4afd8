"""The file server's path and validator decisions that need no server: canonical paths,
local ETags, and what a modification time at the epoch may vouch for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genro_storage import StorageManager
from genro_storage.backends.base import EntryInfo
from genro_storage.engine.serve.prepare import _tag, describe, local_tag
from genro_storage.serving.app import canonical_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/files/a.txt", "/files/a.txt"),
        ("/files//privdir/doc.txt", "/files/privdir/doc.txt"),
        ("///files///privdir//", "/files/privdir/"),
        ("//", "/"),
        ("/", "/"),
        ("", ""),
        ("/files/.hidden", "/files/.hidden"),
        ("/files/./privdir/doc.txt", None),
        ("/files/privdir/..", None),
        ("/./", None),
    ],
)
def test_canonical_path(path: str, expected: str | None) -> None:
    assert canonical_path(path) == expected


def test_local_tag_changes_when_content_changes_under_the_same_size_and_mtime(
    tmp_path: Path,
) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(b"one")
    os.utime(target, (0, 0))
    before = local_tag(os.stat(target))
    target.write_bytes(b"two")
    os.utime(target, (0, 0))
    assert local_tag(os.stat(target)) != before


def test_local_tag_is_sixteen_hex_digits_that_tell_every_state_apart(tmp_path: Path) -> None:
    # short: the HTTP server checks and writes it in every conditional request and answer
    target = tmp_path / "f.txt"
    target.write_bytes(b"one")
    st = os.stat(target)
    tag = local_tag(st)
    assert len(tag) == 16 and int(tag, 16) >= 0
    assert local_tag(os.stat(target)) == tag  # stable
    states = {
        (st.st_mtime_ns + d[0], st.st_size + d[1], st.st_ino + d[2], st.st_ctime_ns + d[3])
        for d in [(0, 0, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]
    }
    assert len({_tag(*state) for state in states}) == 5


def test_epoch_mtime_is_no_date_and_no_size_only_tag() -> None:
    manager = StorageManager()
    manager.configure([{"name": "m", "type": "memory", "base_path": "epoch-test"}])
    node = manager.node("m:a.txt")
    bare = describe(node, EntryInfo("a.txt", False, 3, 0.0))
    assert (bare.mtime, bare.etag) == (None, None)  # nothing that would miss an edit
    tagged = describe(node, EntryInfo("a.txt", False, 3, 0.0, etag="v7"))
    assert (tagged.mtime, tagged.etag) == (None, "v7")
    dated = describe(node, EntryInfo("a.txt", False, 3, 1.7e9))
    assert dated.mtime == 1.7e9 and dated.etag is not None
