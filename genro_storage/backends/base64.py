"""Inline data: the path of a base64 node *is* its content (standard alphabet, padded).

Writing replaces the node's path with the encoding of the new bytes (the backend returns
the new path and the node adopts it). There are no directories.
"""

from __future__ import annotations

import base64 as _b64
import binascii
import contextlib
import hashlib
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..capabilities import BackendCapabilities
from ..errors import CapabilityError
from ..fileio import is_write_mode
from .base import EntryInfo, StorageBackend, text_wrapper

__all__ = ["Base64Backend", "decode_payload", "encode_payload"]


def encode_payload(data: bytes) -> str:
    return _b64.b64encode(data).decode("ascii")


def decode_payload(path: str) -> bytes:
    """Decode a payload strictly; whitespace and newlines around or inside are ignored."""
    cleaned = "".join(path.split())
    if not cleaned:
        raise FileNotFoundError("Base64 path cannot be empty")
    try:
        return _b64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FileNotFoundError(f"Invalid base64 data: {exc}") from exc


class _WriteBack(io.BytesIO):
    """Buffer for write-mode ``open()``: on close its bytes become the new payload."""

    def __init__(self, on_close: Any = None) -> None:
        super().__init__()
        self._on_close = on_close

    def close(self) -> None:
        if not self.closed and self._on_close is not None:
            self._on_close(encode_payload(self.getvalue()))
        super().close()


class Base64Backend(StorageBackend):
    """The base64 backend. Takes no arguments."""

    protocol = "base64"
    path_is_content = True

    def __init__(self, mount_name: str = "") -> None:
        self.mount_name = mount_name
        self._created = time.time()

    @property
    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(
            write=True,
            delete=False,
            mkdir=False,
            list_dir=False,
            atomic_operations=False,
            append_mode=False,
            public_urls=True,
        )

    def _denied(self, what: str) -> CapabilityError:
        return CapabilityError(f"base64 backend is read-only for {what}: it has no files to {what}")

    def info(self, path: str) -> EntryInfo:
        data = decode_payload(path)
        return EntryInfo(
            path=path,
            is_dir=False,
            size=len(data),
            mtime=self._created,
            md5=hashlib.md5(data).hexdigest(),
        )

    def is_dir(self, path: str) -> bool:
        return False

    def read_bytes(self, path: str) -> bytes:
        return decode_payload(path)

    def open(self, path: str, mode: str = "rb", on_write: Any = None) -> IO[Any]:
        """Read modes decode the payload; write modes buffer and call ``on_write(new_path)``."""
        if is_write_mode(mode):
            buffer = _WriteBack(on_write)
            return text_wrapper(buffer, mode)
        data = decode_payload(path)
        return io.BytesIO(data) if "b" in mode else io.StringIO(data.decode("utf-8"))

    def open_write(self, path: str, mode: str, on_new_path: Callable[[str], None]) -> IO[Any]:
        return self.open(path, mode, on_write=on_new_path)

    def write_bytes(self, path: str, data: bytes) -> str:
        return encode_payload(data)

    def write_stream(self, path: str, chunks: Any) -> str:
        return encode_payload(b"".join(chunks))

    def list_dir(self, path: str) -> list[str]:
        raise ValueError("base64 backend has no directory structure")

    def delete(self, path: str, recursive: bool = False) -> None:
        self.check_delete_allowed()

    def check_delete_allowed(self) -> None:
        # move_to asks before copying, so a base64 source is refused without a stray copy
        raise PermissionError("base64 backend is read-only: nothing to delete")

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        raise PermissionError("base64 backend is read-only: cannot create directories")

    def get_hash(self, path: str) -> str:
        return hashlib.md5(decode_payload(path)).hexdigest()

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        raise CapabilityError("Base64Backend does not support metadata operations")

    @contextlib.contextmanager
    def local_path(self, path: str, mode: str = "r") -> Iterator[str]:
        if mode != "r":
            raise PermissionError("base64 backend is read-only: local_path only supports mode 'r'")
        fd, tmp = tempfile.mkstemp()
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(decode_payload(path))
            yield tmp
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def create(config: dict[str, Any], mount_name: str) -> Base64Backend:
    return Base64Backend(mount_name)
