"""docs/backends.md tells the truth about the backends.

The capability table must equal each backend's declared flags, every YAML mount example
may use only the keys its type knows (and must give the required ones), and every type
of the registry has a section. None of this needs a driver or a server: backend modules
import their drivers lazily.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from genro_storage.backends import (
    archives,
    azure,
    gcs,
    git,
    github,
    http,
    libarchive,
    s3,
    sftp,
    smb,
    webdav,
)
from genro_storage.backends.base64 import Base64Backend
from genro_storage.backends.local import LocalStorage
from genro_storage.backends.memory import MemoryBackend
from genro_storage.backends.registry import BACKENDS
from genro_storage.capabilities import BackendCapabilities
from tests.test_docs import blocks

PAGE = Path(__file__).resolve().parent.parent / "docs" / "backends.md"
COMMON_KEYS = {"name", "type", "protocol", "permissions"}
YES, NO = "\u2713", "\u2013"  # the check mark and en dash the table uses


def declared(tmp_path: Path) -> dict[str, BackendCapabilities]:
    return {
        "local": LocalStorage(str(tmp_path)).capabilities,
        "memory": MemoryBackend.default_capabilities,
        "base64": Base64Backend().capabilities,
        "s3": s3.S3Backend.default_capabilities,
        "gcs": gcs.GCSBackend.default_capabilities,
        "azure": azure.AzureBackend.default_capabilities,
        "sftp": sftp.SFTPBackend.default_capabilities,
        "smb": smb.SMBBackend.default_capabilities,
        "webdav": webdav.WebDAVBackend.default_capabilities,
        "http": http.HTTPBackend.default_capabilities,
        "zip": archives.READ_ONLY,
        "zip (`mode: w` or `a`)": archives.ZIP_WRITABLE,
        "tar": archives.READ_ONLY,
        "libarchive": libarchive.LibArchiveBackend.default_capabilities,
        "git": git.GitBackend.default_capabilities,
        "github": github.GitHubBackend.default_capabilities,
    }


def capability_tables() -> list[tuple[list[str], dict[str, list[str]]]]:
    """Each table after a ``<!-- capability-table -->`` marker: flag names, cells per row."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    tables = []
    for start, line in enumerate(lines):
        if line != "<!-- capability-table -->":
            continue
        rows = []
        for row in lines[start + 1 :]:
            if not row.startswith("|"):
                break
            rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
        header, _rule, *body = rows
        tables.append((header[1:], {row[0]: row[1:] for row in body}))
    return tables


def test_capability_table_matches_the_code(tmp_path: Path) -> None:
    truth = declared(tmp_path)
    tables = capability_tables()
    assert len(tables) == 3
    for flags, rows in tables:
        assert set(rows) == set(truth)
        check_table(flags, rows, truth)


def check_table(
    flags: list[str], rows: dict[str, list[str]], truth: dict[str, BackendCapabilities]
) -> None:
    for backend, cells in rows.items():
        caps = truth[backend].as_dict()
        for flag, cell in zip(flags, cells):
            if backend == "s3" and flag == "versioning":
                # follows the bucket at run time; the declared default is off
                assert cell == "bucket" and caps[flag] is False
                continue
            assert cell in (YES, NO), (backend, flag, cell)
            assert caps[flag] is (cell == YES), f"{backend}.{flag}: page says {cell}"


def mount_examples() -> list[dict[str, Any]]:
    found = []
    for block in blocks(PAGE.read_text(encoding="utf-8")):
        if block.lang != "yaml":
            continue
        for entry in yaml.safe_load(block.code):
            found.append(entry)
    return found


@pytest.mark.parametrize("entry", mount_examples(), ids=lambda e: e["name"])
def test_yaml_examples_use_real_keys(entry: dict[str, Any]) -> None:
    spec = BACKENDS[entry["type"]]
    known = set(spec.required) | set(spec.optional) | COMMON_KEYS
    assert set(entry) <= known, f"unknown keys {set(entry) - known} for {spec.type}"
    assert set(spec.required) <= set(entry), f"{spec.type} needs {spec.required}"


def section(type_name: str) -> str:
    """The text under the ``## type`` or ``### type`` heading, up to the next heading."""
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"^#{{2,3}} {re.escape(type_name)}\n(.*?)(?=^#{{1,3}} )", text, re.M | re.S)
    assert match, f"no section for {type_name!r}"
    return match.group(1)


@pytest.mark.parametrize("type_name", sorted(BACKENDS))
def test_every_key_of_every_type_is_in_its_section(type_name: str) -> None:
    text = section(type_name)
    spec = BACKENDS[type_name]
    for key in (*spec.required, *spec.optional):
        assert f"`{key}`" in text, f"{type_name}: key {key!r} is not documented"
