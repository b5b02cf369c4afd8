"""GenroStorage never holds a whole file: a 200 MiB object is saved and read back in
chunks, with Python's allocations traced (django-storages spools whole S3 objects,
django-storages #1568)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest

pytest.importorskip("django")

from django.core.files.base import File

from genro_storage.integrations.django import GenroStorage
from tests.integrations._django_helpers import mount_config

SIZE = 200 * 1024 * 1024
LIMITS = {"local": 8 * 1024 * 1024, "s3": 64 * 1024 * 1024}


class Generated(io.RawIOBase):
    """``size`` bytes of a repeating pattern, produced on read (never held at once)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.size - self.pos)
        start = self.pos % 251
        pattern = bytes(range(251)) * (n // 251 + 2)
        buffer[:n] = pattern[start : start + n]
        self.pos += n
        return n


def expected_md5(size: int) -> str:
    digest = hashlib.md5()
    source = Generated(size)
    while chunk := source.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", "s3"])
def test_200_mib_saved_and_read_in_chunks(kind: str, settings, tmp_path: Path) -> None:
    settings.GENRO_STORAGE_MOUNTS = [mount_config(kind, "big", tmp_path)]
    store = GenroStorage(mount="big")
    limit = LIMITS[kind]

    tracemalloc.start()
    try:
        name = store.save("huge.bin", File(Generated(SIZE), name="huge.bin"))
        save_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        digest = hashlib.md5()
        with store.open(name, "rb") as fh:
            for chunk in fh.chunks():
                digest.update(chunk)
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert store.size(name) == SIZE
    assert digest.hexdigest() == expected_md5(SIZE)
    assert save_peak < limit, f"save peaked at {save_peak / 2**20:.1f} MiB for 200 MiB"
    assert read_peak < limit, f"read peaked at {read_peak / 2**20:.1f} MiB for 200 MiB"
    store.delete(name)
