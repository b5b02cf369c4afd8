"""Copy and sync jobs: run in a thread, their progress read while they run.

A job wraps :meth:`StorageNode.copy_to` or :meth:`StorageNode.sync_to` with the copy
engine's ``progress`` (files) and ``progress_bytes`` callbacks; the console reports it over
server-sent events (``/api/jobs/<id>/events``) or plain polling (``/api/jobs/<id>``).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..node import StorageNode

__all__ = ["Job", "Jobs"]

_KEEP_FINISHED = 50  # finished jobs kept for late readers


@dataclass
class Job:
    """One copy or sync, with its live counters."""

    id: str
    kind: str  # "copy" or "sync"
    source: str
    target: str
    state: str = "running"  # running, done, failed
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    error: str | None = None
    summary: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    changed: threading.Event = field(default_factory=threading.Event, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "state": self.state,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "error": self.error,
            "summary": self.summary,
            "started": self.started,
            "finished": self.finished,
        }

    def _files(self, done: int, total: int) -> None:
        self.files_done, self.files_total = done, total
        self.changed.set()

    def _bytes(self, done: int, total: int) -> None:
        self.bytes_done, self.bytes_total = done, total
        self.changed.set()


class Jobs:
    """The jobs of one console, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def start(self, src: StorageNode, dest: StorageNode, kind: str, delete: bool = False) -> Job:
        """Start copying (``kind='copy'``) or syncing ``src`` to ``dest`` in a thread."""
        with self._lock:
            job = Job(str(next(self._ids)), kind, src.fullpath, dest.fullpath)
            self._jobs[job.id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, src, dest, delete), name=f"console-job-{job.id}"
        )
        thread.daemon = True
        thread.start()
        return job

    def _run(self, job: Job, src: StorageNode, dest: StorageNode, delete: bool) -> None:
        try:
            if job.kind == "sync":
                report = src.sync_to(
                    dest, delete=delete, progress=job._files, progress_bytes=job._bytes
                )
                job.summary = str(report)
                if not report.ok:
                    job.error = job.summary
            else:
                src.copy_to(dest, progress=job._files, progress_bytes=job._bytes)
            job.state = "failed" if job.error else "done"
        except Exception as exc:  # reported to the page, not raised in a thread
            job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()
            job.changed.set()

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state != "running"]
        for job in finished[:-_KEEP_FINISHED]:
            del self._jobs[job.id]
