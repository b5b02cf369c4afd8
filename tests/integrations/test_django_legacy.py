"""The legacy ``DEFAULT_FILE_STORAGE`` setting (Django 4.2; removed in 5.1).

Django builds the storage with no arguments, so every option comes from the prefixed
``GENRO_STORAGE_*`` settings. Runs in a fresh interpreter (settings cannot change
in-process); with Django >= 5.1 installed there is no such setting to test and the test
is skipped (``test_options_fall_back_to_prefixed_settings`` covers the no-argument build).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

django = pytest.importorskip("django")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(django.VERSION >= (5, 1), reason="DEFAULT_FILE_STORAGE left Django in 5.1")
def test_default_file_storage_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.integrations.django_legacy.settings",
        LEGACY_ROOT=str(tmp_path),
        PYTHONPATH=os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(ROOT)])),
    )
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests/integrations/django_legacy/run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok 4.")
    assert (tmp_path / "uploads/legacy.txt").read_bytes() == b"legacy setting"
