"""Mount configurations the Django tests switch between (local, memory, S3 on moto)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.remote import make_bucket
from tests.services import require_services

KINDS = ("local", "memory", "s3")


def mount_config(kind: str, name: str, tmp_path: Path) -> dict[str, Any]:
    """A mount dict named ``name`` of ``kind`` (S3 needs the services: else skip/fail)."""
    if kind == "local":
        root = tmp_path / f"mount-{name}"
        root.mkdir(parents=True, exist_ok=True)
        return {"name": name, "type": "local", "path": str(root)}
    if kind == "memory":
        return {"name": name, "type": "memory", "base_path": f"dj-{uuid.uuid4().hex}"}
    if kind == "s3":
        env = require_services("s3")
        return {
            "name": name,
            "type": "s3",
            "bucket": make_bucket(env, "genro-dj"),
            "endpoint_url": env["SVC_S3_ENDPOINT"],
            "key": env["SVC_S3_KEY"],
            "secret": env["SVC_S3_SECRET"],
        }
    raise ValueError(kind)
