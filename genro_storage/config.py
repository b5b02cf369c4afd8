"""Read and validate mount configurations from code, YAML or JSON.

Every error says which mount, which key and, for files, which file and line. The same
validator serves ``StorageManager.configure``, the framework integrations and the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .backends.registry import BackendSpec, check_required, spec_for
from .backends.relative import PERMISSION_LEVELS
from .config_file import SourcedMounts, did_you_mean, origin_of, read_config_file
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
    """Return ``[(entry, origin), ...]`` from a list of dicts or a YAML/JSON file path.

    A list read from a file (:class:`~genro_storage.config_file.SourcedMounts`) keeps the
    file and line of each entry.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, SourcedMounts):
        return list(zip(source, source.origins))
    if isinstance(source, list):
        return [(entry, "") for entry in source]
    if not isinstance(source, str):
        raise TypeError(
            f"configure() takes a list of mount dicts or a config file path, "
            f"got {type(source).__name__}"
        )
    mounts = read_config_file(source, app=False).mounts
    return list(zip(mounts, mounts.origins))


def env_config_path() -> str | None:
    """The file named by ``$GENRO_STORAGE_CONFIG``, or None when unset or empty."""
    return os.environ.get(CONFIG_ENV) or None


def load_mounts_file(path: str) -> SourcedMounts:
    """The mounts of a config file: a mounts list, or an app config ``{mounts: [...]}``.

    The app config (``serve:`` routes beside the mounts) is what the CLI and the serving
    app read; a library or fsspec user of the same file takes its mounts only.
    """
    return read_config_file(path, app=True).mounts


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
        _check_keys(options, RELATIVE_KEYS, "a relative mount", name, origin)
        _check_permissions(options, name, origin)
        return mount
    if "type" not in options:
        raise StorageConfigError(
            f"Mount '{name}' missing required field: 'type' (or 'protocol'){_where(origin)}"
        )
    try:
        spec = spec_for(options["type"], name)
        check_required(spec, options, name)
    except StorageConfigError as exc:
        if origin:
            raise type(exc)(f"{exc}{_where(origin)}") from None
        raise
    _check_keys(options, _allowed_keys(spec), f"type '{spec.type}'", name, origin)
    _check_types(options, spec, name, origin)
    # 0.4.2 order: type and required keys first, the permissions value after them
    _check_permissions(options, name, origin)
    return mount


#: keys every mount accepts, whatever its type
COMMON_KEYS = ("name", "type", "protocol", "permissions")
#: keys of a relative mount (``type``/``protocol`` are accepted and ignored, as in 0.4.2)
RELATIVE_KEYS = ("name", "path", "permissions", "type", "protocol")


def _allowed_keys(spec: BackendSpec) -> tuple[str, ...]:
    return (*COMMON_KEYS, *spec.required, *spec.optional)


def _check_keys(
    options: Mapping[str, Any], allowed: tuple[str, ...], kind: str, name: str, origin: str
) -> None:
    """Refuse a key the mount's type does not read (a typo is never silently ignored)."""
    for key in options:
        if key in allowed:
            continue
        valid = ", ".join(sorted(k for k in allowed if k not in ("protocol",)))
        raise StorageConfigError(
            f"Mount '{name}': unknown key '{key}'{did_you_mean(str(key), allowed)} "
            f"(valid keys for {kind}: {valid}){_where(origin_of(origin, str(key)))}"
        )


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_STRING = (lambda v: isinstance(v, str), "a string")
_BOOL = (lambda v: isinstance(v, bool), "true or false")
_MAPPING = (lambda v: isinstance(v, Mapping), "a mapping")
_PATH = (_is_path, "a file path")

# what each key must hold (keys not listed take any value); a description for the message
_KEY_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    **dict.fromkeys(
        ("name", "type", "permissions", "base_path", "prefix", "bucket", "container",
         "account_name", "host", "share", "username", "password", "url", "base_url",
         "endpoint_url", "region", "org", "repo"),
        _STRING,
    ),
    "port": (_is_int, "an integer"),
    "timeout": (lambda v: _is_int(v) or isinstance(v, float), "a number of seconds"),
    **dict.fromkeys(("anon", "version_aware", "verify_ssl"), _BOOL),
    **dict.fromkeys(("headers", "client_kwargs", "config_kwargs", "target_options"), _MAPPING),
    **dict.fromkeys(("file", "key_filename"), _PATH),
}  # fmt: skip


def _check_types(options: Mapping[str, Any], spec: BackendSpec, name: str, origin: str) -> None:
    """Refuse a value of the wrong type, naming the mount and the key."""
    for key, value in options.items():
        if value is None and key not in spec.required:
            continue
        if key == "path":
            ok = _is_path(value) or (spec.type == "local" and callable(value))
            what = "a path (or a callable returning one)" if spec.type == "local" else "a path"
        elif key in _KEY_TYPES:
            check, what = _KEY_TYPES[key]
            ok = check(value)
        else:
            continue
        if not ok:
            raise StorageConfigError(
                f"Mount '{name}': key '{key}' must be {what}, got {type(value).__name__} "
                f"{value!r}{_where(origin_of(origin, key))}"
            )


def _check_permissions(options: Mapping[str, Any], name: str, origin: str) -> None:
    level = options.get("permissions")
    if level is not None and level not in PERMISSION_LEVELS:
        valid = ", ".join(f"'{p}'" for p in PERMISSION_LEVELS)
        raise StorageConfigError(
            f"Invalid permissions '{level}' for mount '{name}'. Valid values: {valid}"
            f"{_where(origin_of(origin, 'permissions'))}"
        )
