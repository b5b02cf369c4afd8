"""The publish-on-close writer: bounded temporary names, finalizers that never publish."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from genro_storage.backends._publish import (
    LOCAL_TEMP_SUFFIX,
    NAME_MAX,
    REMOTE_TEMP_SUFFIX,
    PublishOnClose,
    is_temp_name,
    open_local_writer,
    temp_name,
)


@pytest.mark.parametrize("name", ["a.txt", "n" * 255, "\u00e9" * 127, "\u65e5" * 85])
@pytest.mark.parametrize("suffix", [LOCAL_TEMP_SUFFIX, REMOTE_TEMP_SUFFIX])
def test_temp_names_fit_in_name_max_and_are_recognised(name: str, suffix: str) -> None:
    temp = temp_name(name, suffix)
    assert len(temp.encode()) <= NAME_MAX
    assert temp.startswith(".") and temp.endswith(suffix)
    assert is_temp_name(temp, suffix)
    assert temp != temp_name(name, suffix)  # unique


@pytest.mark.parametrize("name", [".notes.tmp", ".a.b.tmp", "a.0123456789ab.tmp", ".x.part"])
def test_user_files_are_not_taken_for_temp_files(name: str) -> None:
    assert not is_temp_name(name, LOCAL_TEMP_SUFFIX)


def test_a_255_byte_name_is_writable_on_local_disk(tmp_path: Path) -> None:
    target = tmp_path / ("x" * 251 + ".txt")
    with open_local_writer(target) as fh:
        fh.write(b"long")
    assert target.read_bytes() == b"long"


def test_a_writer_whose_init_failed_has_a_quiet_finalizer() -> None:
    # 0.4.x's AtomicWriter.__del__ recursed without end here (RecursionError on stderr)
    half = PublishOnClose.__new__(PublishOnClose)
    del half
    gc.collect()
    with pytest.raises(FileNotFoundError):
        open_local_writer(Path("/nonexistent-dir/x/file.txt"))
    gc.collect()


def test_an_unclosed_local_writer_is_discarded_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    fh = open_local_writer(target, "w")
    fh.write("new")
    with pytest.warns(ResourceWarning, match="discarded"):
        del fh
        gc.collect()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
