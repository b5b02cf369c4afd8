"""Mount configurations the Django tests switch between: a local folder, a memory store,
and the real servers of S3 (moto), GCS (fake-gcs), Azure (Azurite) and SFTP (sshd)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.core.files.storage import Storage

from tests.conformance.targets import BY_NAME, writable_config

#: set in the child interpreter that runs test files again on Django 4.2
CHILD_FLAG = "GENRO_DJANGO42_CHILD"
#: The Django 4.2 pass runs the contract on a folder, a memory store and one object store:
#: what differs between Django versions lives in Django's ``Storage`` and in
#: ``GenroStorage`` above the node API, the same code whatever the backend. The
#: backend-specific cases (GCS, Azure, SFTP) run once, on the current Django.
KINDS: tuple[str, ...] = (
    ("local", "memory", "s3")
    if os.environ.get(CHILD_FLAG)
    else ("local", "memory", "s3", "gcs", "azure", "sftp")
)
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


# ---------------------------------------------------------------- the Django 4.2 LTS pass
ROOT = Path(__file__).resolve().parents[2]
DJANGO42 = ROOT / ".cache" / "django42"


def run_on_django_42(files: list[str], timeout: int = 900) -> str:
    """Run ``files`` with pytest in a child interpreter importing Django 4.2 LTS (the copy
    ``scripts/install.sh`` keeps under ``.cache/django42``); returns pytest's summary.

    Servers those tests start (gunicorn, uvicorn, ``manage.py``) inherit the child's
    import path (:func:`tests.integrations.servers.clean_env` keeps it), so they run
    Django 4.2 too. Skips (fails in CI) when the copy is missing.
    """
    import os
    import subprocess
    import sys

    import django
    import pytest

    from tests.services import in_ci

    if django.VERSION < (5, 0):
        pytest.skip("the running Django is 4.2: this run is the 4.2 pass")
    if not (DJANGO42 / "django" / "__init__.py").is_file():
        message = f"Django 4.2 missing under {DJANGO42}: run bash scripts/install.sh"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    # No SLIPCOVER_*: the child's coverage is not counted, so it instruments nothing
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SLIPCOVER_"))}
    env[CHILD_FLAG] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(DJANGO42), str(ROOT), env.get("PYTHONPATH")])
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    tail = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    assert " passed" in run.stdout and " failed" not in run.stdout, tail
    return run.stdout.strip().splitlines()[-1]
