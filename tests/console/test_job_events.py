"""The console's job progress stream (``/api/jobs/<id>/events``): its last event says how
the job ended, whenever the job ends.

The browser test once met a page stuck at "3 of 4 files": the copy ended between the
stream's snapshot of the job (still running) and its check of the job's state (done), so
the stream closed without the event that says the job ended.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import anyio

from genro_storage.console import api
from genro_storage.console.jobs import Job


class EndsDuringSnapshot(Job):
    """A job whose copy thread finishes right after the stream reads it."""

    def as_dict(self) -> dict[str, Any]:
        snapshot = super().as_dict()
        if self.state == "running":
            self.files_done = self.files_total = 4
            self.state = "done"
            self.changed.set()
        return snapshot


def stream(job: Job) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app = SimpleNamespace(jobs=SimpleNamespace(get=lambda job_id: job))
    anyio.run(api.job, app, SimpleNamespace(send=send), f"{job.id}/events")
    assert sent[0]["status"] == 200 and sent[-1] == {
        "type": "http.response.body",
        "body": b"",
        "more_body": False,
    }
    return [json.loads(m["body"].removeprefix(b"data: ")) for m in sent[1:-1]]


def test_a_job_ending_during_the_snapshot_gets_a_last_event_saying_so() -> None:
    events = stream(EndsDuringSnapshot("1", "copy", "main:media", "scratch:copied"))
    assert [(e["state"], e["files_done"]) for e in events] == [("running", 0), ("done", 4)]


def test_a_finished_job_is_one_event() -> None:
    job = Job("2", "copy", "main:media", "scratch:copied", state="failed", error="boom")
    assert [(e["state"], e["error"]) for e in stream(job)] == [("failed", "boom")]
