"""Git mounts: versions are the commits that changed a file, read back by index or id."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from genro_storage import StorageManager

pytest.importorskip("pygit2")

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", message], cwd=repo, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True)
    return head.stdout.decode().strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[StorageManager, list[str]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
    ids = [commit(repo, {"doc.txt": "one"}, "first")]
    commit(repo, {"other.txt": "unrelated"}, "does not touch doc.txt")
    ids.append(commit(repo, {"doc.txt": "two!"}, "second"))
    ids.append(commit(repo, {"doc.txt": "three"}, "third"))
    storage = StorageManager()
    storage.configure([{"name": "g", "type": "git", "path": str(repo), "ref": "main"}])
    return storage, ids


def test_versions_are_the_commits_that_changed_the_file_oldest_first(
    history: tuple[StorageManager, list[str]],
) -> None:
    storage, ids = history
    node = storage.node("g:doc.txt")
    assert node.capabilities.versioning
    versions = node.versions
    assert [v["version_id"] for v in versions] == ids
    assert [v["size"] for v in versions] == [3, 4, 5]
    assert [v["is_latest"] for v in versions] == [False, False, True]
    stamps = [v["last_modified"] for v in versions]
    assert stamps == sorted(stamps)


def test_old_versions_read_by_index_and_by_commit_id(
    history: tuple[StorageManager, list[str]],
) -> None:
    storage, ids = history
    node = storage.node("g:doc.txt")
    with node.open(version=0) as fh:
        assert fh.read() == "one"
    with node.open("rb", version=-1) as fh:
        assert fh.read() == b"three"
    with node.open(version=ids[1]) as fh:
        assert fh.read() == "two!"
    assert node.read() == "three"


def test_a_file_never_committed_has_no_versions(
    history: tuple[StorageManager, list[str]],
) -> None:
    storage, _ = history
    assert storage.node("g:missing.txt").versions == []
