"""The ``cache_stat`` route option: what a request's stat found, kept for a few seconds.

Off by default: every request stats its file (and the file's ``.br``/``.gz`` siblings), so
an upload or a change shows in the very next answer. A route with ``cache_stat: N`` keeps,
for N seconds, what the stat of each existing file found; requests within that time skip
the disk until the body is read. The price: for up to N seconds after a file changes, the
route may still answer with its old ETag, Last-Modified and length (a body that no longer
fits is re-checked, see :func:`genro_storage.engine.serve.prepare.prepare`), and a deleted file
may still answer 304. Missing files and directories are never kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["StatCache"]


class StatCache:
    """A mapping from mount path to what its stat found, each entry good for ``ttl`` seconds.

    Holds at most ``max_entries`` paths (the oldest go first). Safe to share between
    threads: every operation is one dict call. ``clock`` (``time.monotonic``) can be
    replaced, in tests for instance.
    """

    def __init__(
        self, ttl: float, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"cache_stat must be > 0 seconds, got {ttl!r}")
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, Any]] = {}
        self.generation = 0  # moves on clear(): what others keep along with it goes too

    def get(self, path: str) -> Any:
        """What was stored for ``path`` less than ``ttl`` seconds ago, else None."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        if self.clock() >= entry[0]:
            self._entries.pop(path, None)
            return None
        return entry[1]

    def put(self, path: str, value: Any) -> None:
        entries = self._entries
        if len(entries) >= self.max_entries and path not in entries:
            try:
                entries.pop(next(iter(entries)), None)
            except (RuntimeError, StopIteration):  # another thread changed it meanwhile
                pass
        entries[path] = (self.clock() + self.ttl, value)

    def forget(self, path: str) -> None:
        self._entries.pop(path, None)

    def clear(self) -> None:
        """Forget everything (after a deploy, for instance)."""
        self._entries.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)
