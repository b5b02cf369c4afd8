"""``FileSection``: a slice of a local file as a request body (multipart upload parts)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from genro_storage.backends._filesection import FileSection


@pytest.fixture
def path(tmp_path: Path) -> str:
    target = tmp_path / "data.bin"
    target.write_bytes(bytes(range(256)) * 4)  # 1,024 bytes
    return str(target)


def test_reads_only_its_slice_in_pieces(path: str) -> None:
    with FileSection(path, 100, 50) as body:
        assert len(body) == 50 and body.remaining == 50
        assert body.read(20) == bytes(range(100, 120))
        assert body.tell() == 20
        assert body.read() == bytes(range(120, 150))
        assert body.read(10) == b"" and body.remaining == 0


def test_seeks_relative_to_the_slice_for_a_resend(path: str) -> None:
    """A signer hashes the body and seeks back; a retry sends it again from seek(0)."""
    with FileSection(path, 1000, 24) as body:
        first = body.read()
        assert body.seek(0) == 0
        assert body.read() == first == (bytes(range(256)) * 4)[1000:]
        assert body.seek(-4, io.SEEK_END) == 20
        assert body.read() == first[20:]
        body.seek(2)
        assert body.seek(3, io.SEEK_CUR) == 5
        buffer = bytearray(4)
        assert body.readinto(buffer) == 4 and bytes(buffer) == first[5:9]
        with pytest.raises(ValueError):
            body.seek(-1)
        with pytest.raises(ValueError):
            body.seek(0, 7)


def test_a_closed_section_refuses_reads(path: str) -> None:
    body = FileSection(path, 0, 10)
    body.close()
    body.close()  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        body.read()
