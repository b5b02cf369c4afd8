"""The one reader of configuration files (YAML or JSON), for the library, apps and CLI.

A file holds a list of mounts, or an app config ``{mounts: [...], serve: {...}}``. Parse
errors name the real file, line and column; every mount entry comes with an
:class:`Origin` (``"mounts.yaml, line 4"``) that also knows the line of each of its keys,
so a validation error can point at the very key that is wrong.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import StorageConfigError

__all__ = ["APP_KEYS", "ConfigDocument", "Origin", "SourcedMounts", "read_config_file"]

#: the top-level keys of an app config file
APP_KEYS = ("mounts", "serve")


class Origin(str):
    """Where a mount entry was read: ``"<file>, line <n>"``, plus the line of each key."""

    source: str
    line: int
    key_lines: dict[str, int]

    def __new__(cls, source: str, line: int, key_lines: dict[str, int] | None = None) -> Origin:
        obj = super().__new__(cls, f"{source}, line {line}")
        obj.source, obj.line, obj.key_lines = source, line, dict(key_lines or {})
        return obj

    def at(self, key: str) -> str:
        """``"<file>, line <n>"`` of ``key`` in this entry (the entry's line if unknown)."""
        line = self.key_lines.get(key)
        return f"{self.source}, line {line}" if line else str(self)


def origin_of(origin: str, key: str) -> str:
    """The place of ``key`` when ``origin`` is an :class:`Origin`, else ``origin``."""
    return origin.at(key) if isinstance(origin, Origin) else origin


class SourcedMounts(list[Any]):
    """A list of mount dicts read from a file, each with its :class:`Origin`.

    It is a plain list to every caller; ``StorageManager.configure`` reads the origins, so
    errors in mounts that went through an app (``WSGIApp("site.yaml")``) still name the
    file and line.
    """

    def __init__(self, entries: Iterable[Any] = (), origins: Iterable[str] = ()) -> None:
        super().__init__(entries)
        self.origins = list(origins)


@dataclass(frozen=True)
class ConfigDocument:
    """A parsed configuration file."""

    path: str
    data: Any
    mounts: SourcedMounts
    serve: Any = None


def read_config_file(path: str, app: bool = True) -> ConfigDocument:
    """Parse ``path``; with ``app=True`` a ``{mounts:, serve:}`` mapping is accepted too.

    Raises ``FileNotFoundError`` for a missing file and :class:`StorageConfigError` for an
    unsupported suffix, a parse error (file, line and column) or an unexpected shape.
    """
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"Configuration file not found: {path}")
    suffix = source.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data, items = _read_yaml(source, str(path))
    elif suffix == ".json":
        data, items = _read_json(source, str(path))
    else:
        raise StorageConfigError(
            f"Unsupported configuration file format '{source.suffix}' for {path}: "
            f"use .yaml, .yml or .json"
        )
    if isinstance(data, list):
        return ConfigDocument(str(path), data, _sourced(data, items, str(path)))
    if not app or not isinstance(data, dict) or "mounts" not in data:
        expected = "a list of mount configs" + (" or {mounts: [...], serve: {...}}" if app else "")
        raise StorageConfigError(
            f"Configuration must be {expected}, got {type(data).__name__} (in {path})"
        )
    unknown = [key for key in data if key not in APP_KEYS]
    if unknown:
        key = str(unknown[0])
        raise StorageConfigError(
            f"{path}: unknown top-level key '{key}'{did_you_mean(key, APP_KEYS)}; "
            f"an app config has 'mounts' and 'serve'"
        )
    mounts = data["mounts"]
    if not isinstance(mounts, list):
        raise StorageConfigError(
            f"{path}: 'mounts' must be a list of mount configs, got {type(mounts).__name__}"
        )
    return ConfigDocument(str(path), data, _sourced(mounts, items, str(path)), data.get("serve"))


def did_you_mean(word: str, choices: Any) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (difflib), or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _sourced(
    entries: list[Any], items: list[tuple[int, dict[str, int]]], path: str
) -> SourcedMounts:
    origins = [Origin(path, line, keys) for line, keys in items]
    origins += [Origin(path, 1)] * (len(entries) - len(origins))
    return SourcedMounts(entries, origins[: len(entries)])


# ---------------------------------------------------------------------- YAML
def _read_yaml(source: Path, path: str) -> tuple[Any, list[tuple[int, dict[str, int]]]]:
    import yaml  # here: a JSON config (and the CLI's --version) never loads it

    with source.open(encoding="utf-8") as stream:  # the stream's name is the file's
        loader = yaml.SafeLoader(stream)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise StorageConfigError(f"Failed to parse YAML file {path}{where}: {exc}") from exc
        finally:
            loader.dispose()
    seq = node
    if isinstance(node, yaml.MappingNode):
        seq = next((v for k, v in node.value if getattr(k, "value", None) == "mounts"), None)
    items: list[tuple[int, dict[str, int]]] = []
    if isinstance(seq, yaml.SequenceNode):
        for item in seq.value:
            keys = {}
            if isinstance(item, yaml.MappingNode):
                keys = {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
            items.append((item.start_mark.line + 1, keys))
    return data, items


# ---------------------------------------------------------------------- JSON
_MOUNTS_KEY = re.compile(r'"mounts"\s*:\s*\[')


def _read_json(source: Path, path: str) -> tuple[Any, list[tuple[int, dict[str, int]]]]:
    text = source.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StorageConfigError(
            f"Failed to parse JSON file {path}, line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc
    start = None
    if isinstance(data, list):
        start = text.index("[") + 1
    elif isinstance(data, dict):
        found = _MOUNTS_KEY.search(text)
        start = found.end() if found else None
    items: list[tuple[int, dict[str, int]]] = []
    if start is not None:
        items = [(line, {}) for line in _json_item_lines(text, start)]
    return data, items


def _json_item_lines(text: str, idx: int) -> list[int]:
    """Line of each element of the JSON array opening just before ``idx``."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    while True:
        while idx < len(text) and text[idx] in " \t\r\n,":
            idx += 1
        if idx >= len(text) or text[idx] == "]":
            return lines
        lines.append(text.count("\n", 0, idx) + 1)
        _, idx = decoder.raw_decode(text, idx)
