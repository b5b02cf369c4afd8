"""Shared fixtures: a manager with local, memory and base64 mounts, isolated per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from genro_storage import StorageManager


@pytest.fixture
def storage(tmp_path: Path) -> StorageManager:
    """Mounts: ``home`` (local tmp dir), ``mem`` (memory, private base path), ``data`` (base64)."""
    manager = StorageManager()
    (tmp_path / "home").mkdir()
    manager.configure(
        [
            {"name": "home", "type": "local", "path": str(tmp_path / "home")},
            {"name": "mem", "type": "memory", "base_path": f"test-{uuid.uuid4().hex}"},
            {"name": "data", "type": "base64"},
        ]
    )
    return manager


@pytest.fixture
def home(tmp_path: Path, storage: StorageManager) -> Path:
    """The directory behind the ``home`` mount."""
    return tmp_path / "home"
