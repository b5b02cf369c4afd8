"""One ``CopyOptions`` object carries every copy/sync option; keywords override it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.engine.copying import CopyOptions


@pytest.fixture
def manager(tmp_path: Path) -> StorageManager:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "b.log").write_text("b")
    (src / "sub" / "c.txt").write_text("c")
    manager = StorageManager()
    manager.configure([{"name": "disk", "type": "local", "path": str(tmp_path)}])
    return manager


def files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_options_object_applies_to_copy_and_sync(manager: StorageManager, tmp_path: Path) -> None:
    seen: list[str] = []
    only_text = CopyOptions(include="*.txt", on_file=lambda n: seen.append(n.basename))
    manager.node("disk:src").copy_to("disk:one", options=only_text)
    assert files(tmp_path / "one") == ["a.txt", "sub/c.txt"]
    assert sorted(seen) == ["a.txt", "c.txt"]
    report = manager.node("disk:src").sync_to("disk:two", options=only_text, dry_run=True)
    assert sorted(report.copied) == ["a.txt", "sub/c.txt"]
    assert not (tmp_path / "two").exists()


def test_keywords_override_the_options_object(manager: StorageManager, tmp_path: Path) -> None:
    only_text = CopyOptions(include="*.txt")
    manager.node("disk:src").copy_to("disk:logs", options=only_text, include="*.log")
    assert files(tmp_path / "logs") == ["b.log"]
    changed = only_text.replace(exclude="sub/*")
    manager.node("disk:src").copy_to("disk:top", options=changed)
    assert files(tmp_path / "top") == ["a.txt"]


def test_sync_keeps_the_skip_of_the_options_object(manager: StorageManager) -> None:
    manager.node("disk:src").sync_to("disk:mirror")
    report = manager.node("disk:src").sync_to("disk:mirror", options=CopyOptions(skip="size"))
    assert all(reason.startswith("same size") for _, reason in report.skipped)


def test_unknown_option_and_bad_values_are_refused(manager: StorageManager) -> None:
    with pytest.raises(TypeError, match="max_workerz"):
        manager.node("disk:src").copy_to("disk:x", max_workerz=2)
    with pytest.raises(TypeError):
        CopyOptions().replace(nonsense=1)
    with pytest.raises(ValueError, match="max_workers"):
        manager.node("disk:src").copy_to("disk:x", options=CopyOptions(max_workers=0))


@pytest.mark.parametrize("default_skip", ["never", "hash"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_plain_call_gets_the_same_options_as_the_defaults_object(
    default_skip: str, dry_run: bool
) -> None:
    """``_options`` skips validation for a call without options: same fields as the
    general path given ``CopyOptions()``."""
    import dataclasses

    from genro_storage.engine import copying

    def present(location: Any) -> Any:
        return location

    plain = copying._options("copy_to", None, {}, default_skip, dry_run, present)
    general = copying._options("copy_to", CopyOptions(), {}, default_skip, dry_run, present)
    assert dataclasses.asdict(plain) == dataclasses.asdict(general)
