"""A backend written the way a third party would: files as rows of a SQLite database.

It lives outside ``genro_storage``, uses only the public contract
(:class:`~genro_storage.backends.StorageBackend`) and is added with
:func:`~genro_storage.backends.register_backend` (see tests/test_register_backend.py).
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from typing import IO, Any

from genro_storage.backends import EntryInfo, StorageBackend
from genro_storage.backends.base import text_wrapper


class _RowWriter(io.BytesIO):
    """Buffers a write; the row is stored when the file is closed."""

    def __init__(self, backend: SqliteBackend, path: str) -> None:
        super().__init__()
        self._backend, self._path = backend, path

    def close(self) -> None:
        if not self.closed:
            self._backend._store(self._path, self.getvalue())
        super().close()


class SqliteBackend(StorageBackend):
    """Files in one table ``files(path, data, mtime)``; directories are path prefixes."""

    protocol = "sqlite"
    implicit_dirs = True

    def __init__(self, config: dict[str, Any], mount_name: str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(config["database"], check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, data BLOB, mtime REAL)"
            )

    def _rows(self, sql: str, *args: Any) -> list[Any]:
        with self._lock, self._db:
            return self._db.execute(sql, args).fetchall()

    def _store(self, path: str, data: bytes) -> None:
        self._rows("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", path, data, time.time())

    def _under(self, path: str) -> list[Any]:
        prefix = f"{path}/" if path else ""
        return self._rows(
            "SELECT path FROM files WHERE substr(path, 1, ?) = ?", len(prefix), prefix
        )

    def info(self, path: str) -> EntryInfo:
        rows = self._rows("SELECT length(data), mtime FROM files WHERE path = ?", path)
        if rows:
            return EntryInfo(path, False, rows[0][0], rows[0][1])
        if path == "" or self._under(path):
            return EntryInfo(path, True, 0)
        raise FileNotFoundError(path)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if set(mode) & set("wax+"):
            return text_wrapper(_RowWriter(self, path), mode)
        rows = self._rows("SELECT data FROM files WHERE path = ?", path)
        if not rows:
            raise FileNotFoundError(path)
        return text_wrapper(io.BytesIO(rows[0][0]), mode)

    def list_dir(self, path: str) -> list[str]:
        start = len(path) + 1 if path else 0
        return sorted({row[0][start:].split("/", 1)[0] for row in self._under(path)})

    def delete(self, path: str, recursive: bool = False) -> None:
        self._rows("DELETE FROM files WHERE path = ?", path)
        if recursive:
            for (child,) in self._under(path):
                self._rows("DELETE FROM files WHERE path = ?", child)

    def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing to create: a directory exists while a file is under it."""

    def close(self) -> None:
        self._db.close()
