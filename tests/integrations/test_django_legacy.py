"""The legacy ``DEFAULT_FILE_STORAGE`` setting (Django 4.2; removed in 5.1).

Django builds the storage with no arguments, so every option comes from the prefixed
``GENRO_STORAGE_*`` settings. Runs in a fresh interpreter (settings cannot change
in-process) on Django 4.2 LTS: the installed Django when it is older than 5.1, else the
copy ``scripts/install.sh`` puts under ``.cache/django42``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import in_ci

django = pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[2]
DJANGO42 = ROOT / ".cache" / "django42"


def legacy_django_path() -> list[str]:
    """Extra import path giving the child interpreter a Django with the legacy setting."""
    if django.VERSION < (5, 1):
        return []
    if (DJANGO42 / "django" / "__init__.py").is_file():
        return [str(DJANGO42)]
    message = f"Django 4.2 missing under {DJANGO42}: run bash scripts/install.sh"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def test_default_file_storage_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.integrations.django_legacy.settings",
        LEGACY_ROOT=str(tmp_path),
        PYTHONPATH=os.pathsep.join(
            filter(None, [*legacy_django_path(), env.get("PYTHONPATH"), str(ROOT)])
        ),
    )
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests/integrations/django_legacy/run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok 4.2")
    assert (tmp_path / "uploads/legacy.txt").read_bytes() == b"legacy setting"
