"""Read and validate mount configurations from code, YAML or JSON.

Every error says which mount, which key and, for files, which file and line. The same
validator serves ``StorageManager.configure``, the framework integrations and the CLI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .backends.registry import check_required, spec_for
from .backends.relative import PERMISSION_LEVELS
from .errors import StorageConfigError

__all__ = [
    "CONFIG_ENV",
    "MountConfig",
    "env_config_path",
    "load_mounts_file",
    "load_source",
    "validate_mount",
]

#: The environment variable naming the config file shared by the library, the CLI and
#: every ``genro://`` fsspec user.
CONFIG_ENV = "GENRO_STORAGE_CONFIG"


@dataclass(frozen=True)
class MountConfig:
    """One validated mount entry and where it came from (for error messages)."""

    name: str
    options: dict[str, Any]
    origin: str = ""  # "mounts.yaml, line 4" or "" for code

    @property
    def is_relative(self) -> bool:
        path = self.options.get("path")
        if not isinstance(path, str) or ":" not in path:
            return False
        # A local mount's 'C:\\data' is a Windows path, not parent mount 'C' (fixes a 0.4.2
        # quirk). Any other entry keeps 0.4.2's reading, so a relative mount on a one-letter
        # parent ('C:/sub', no type) still works.
        return not (self.options.get("type") == "local" and _looks_like_windows_path(path))


def _looks_like_windows_path(path: str) -> bool:
    return len(path) >= 3 and path[0].isalpha() and path[1] == ":" and path[2] in "\\/"


def _where(origin: str) -> str:
    return f" ({origin})" if origin else ""


def load_source(source: Any) -> list[tuple[Any, str]]:
    """Return ``[(entry, origin), ...]`` from a list of dicts or a YAML/JSON file path."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, list):
        return [(entry, "") for entry in source]
    if not isinstance(source, str):
        raise TypeError(
            f"configure() takes a list of mount dicts or a config file path, "
            f"got {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"Configuration file not found: {source}")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix in (".yaml", ".yml"):
        return _load_yaml(text, source)
    if suffix == ".json":
        return _load_json(text, source)
    raise StorageConfigError(
        f"Unsupported configuration file format '{path.suffix}' for {source}: "
        f"use .yaml, .yml or .json"
    )


def env_config_path() -> str | None:
    """The file named by ``$GENRO_STORAGE_CONFIG``, or None when unset or empty."""
    return os.environ.get(CONFIG_ENV) or None


def load_mounts_file(path: str) -> list[Any]:
    """The mounts of a config file: a mounts list, or an app config ``{mounts: [...]}``.

    The app config (``serve:`` routes beside the mounts) is what the CLI and the serving
    app read; a library or fsspec user of the same file takes its mounts only.
    """
    try:
        return [entry for entry, _ in load_source(path)]
    except StorageConfigError as exc:
        if "got dict" not in str(exc):
            raise
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if path.lower().endswith(".json") else yaml.safe_load(text)
    mounts = data.get("mounts") if isinstance(data, dict) else None
    if not isinstance(mounts, list):
        raise StorageConfigError(f"{path}: expected a list of mounts or {{mounts: [...]}}")
    return mounts


def _top_level_type_error(value: Any, source: str) -> StorageConfigError:
    kind = type(value).__name__
    return StorageConfigError(
        f"Configuration must be a list of mount configs, got {kind} (in {source})"
    )


def _load_yaml(text: str, source: str) -> list[tuple[Any, str]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise StorageConfigError(f"Failed to parse YAML file {source}{where}: {exc}") from exc
    if not isinstance(data, list):
        raise _top_level_type_error(data, source)
    lines = [item.start_mark.line + 1 for item in node.value] if node is not None else []
    return [(entry, f"{source}, line {line}") for entry, line in zip(data, lines)]


def _load_json(text: str, source: str) -> list[tuple[Any, str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StorageConfigError(
            f"Failed to parse JSON file {source}, line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    if not isinstance(data, list):
        raise _top_level_type_error(data, source)
    return [(entry, f"{source}, line {line}") for entry, line in zip(data, _json_item_lines(text))]


def _json_item_lines(text: str) -> list[int]:
    """Line of each element of a top-level JSON array (decoded once more, item by item)."""
    decoder = json.JSONDecoder()
    idx = text.index("[") + 1
    lines: list[int] = []
    while True:
        while idx < len(text) and text[idx] in " \t\r\n,":
            idx += 1
        if idx >= len(text) or text[idx] == "]":
            return lines
        lines.append(text.count("\n", 0, idx) + 1)
        _, idx = decoder.raw_decode(text, idx)


def validate_mount(entry: Any, origin: str = "") -> MountConfig:
    """Check one mount dict; return it normalised (``protocol`` -> ``type``)."""
    if not isinstance(entry, Mapping):
        raise StorageConfigError(
            f"Each mount config must be a dict, got {type(entry).__name__}{_where(origin)}"
        )
    options = dict(entry)
    name = options.get("name")
    if not name:
        raise StorageConfigError(f"Mount config missing required field: 'name'{_where(origin)}")
    if not isinstance(name, str) or ":" in name or "/" in name:
        raise StorageConfigError(
            f"Invalid mount name {name!r}: a string without ':' or '/'{_where(origin)}"
        )
    if "type" not in options and "protocol" in options:
        options["type"] = options["protocol"]
    mount = MountConfig(name, options, origin)
    if mount.is_relative:
        _check_permissions(options, name, origin)
        return mount
    if "type" not in options:
        raise StorageConfigError(
            f"Mount '{name}' missing required field: 'type' (or 'protocol'){_where(origin)}"
        )
    try:
        check_required(spec_for(options["type"], name), options, name)
    except StorageConfigError as exc:
        if origin:
            raise type(exc)(f"{exc}{_where(origin)}") from None
        raise
    # 0.4.2 order: type and required keys first, the permissions value after them
    _check_permissions(options, name, origin)
    return mount


def _check_permissions(options: Mapping[str, Any], name: str, origin: str) -> None:
    level = options.get("permissions")
    if level is not None and level not in PERMISSION_LEVELS:
        valid = ", ".join(f"'{p}'" for p in PERMISSION_LEVELS)
        raise StorageConfigError(
            f"Invalid permissions '{level}' for mount '{name}'. Valid values: {valid}"
            f"{_where(origin)}"
        )
