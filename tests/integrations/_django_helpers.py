"""Mount configurations the Django tests switch between: a local folder, a memory store,
and the real servers of S3 (moto), GCS (fake-gcs), Azure (Azurite) and SFTP (sshd)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.files.storage import Storage

from tests.conformance.targets import BY_NAME, writable_config

KINDS = ("local", "memory", "s3", "gcs", "azure", "sftp")
#: the kinds the serve-view tests run on (the serving code is the same for every backend)
SERVE_KINDS = ("local", "memory", "s3")
#: the kinds whose files are objects in a bucket or container (no real directories)
OBJECT_STORES = ("s3", "gcs", "azure")


def mount_config(kind: str, name: str, tmp_path: Path) -> dict[str, Any]:
    """A mount dict named ``name`` of ``kind`` (remote kinds need the services: else
    skip, or fail in CI). SFTP roots are created by :func:`prepare`."""
    if kind == "local":
        root = tmp_path / f"mount-{name}"
        root.mkdir(parents=True, exist_ok=True)
        return {"name": name, "type": "local", "path": str(root)}
    if kind == "memory":
        return {"name": name, "type": "memory", "base_path": f"dj-{uuid.uuid4().hex}"}
    target = BY_NAME[kind]
    config = writable_config(target, target.env(), tmp_path)
    config.pop("_mkdir", None)
    return {"name": name, **config}


def prepare(storage: Storage) -> Storage:
    """Create the mount root where the backend has real directories (SFTP)."""
    from genro_storage.integrations.django import GenroStorage

    if isinstance(storage, GenroStorage):
        storage.node("").mkdir(parents=True, exist_ok=True)
    return storage
