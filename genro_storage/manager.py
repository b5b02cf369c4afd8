"""StorageManager: named mounts and the ``node()`` factory."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Union

from .backends.base import StorageBackend
from .backends.registry import create_backend
from .backends.relative import RelativeMountBackend
from .config import (
    CONFIG_ENV,
    MountConfig,
    env_config_path,
    load_mounts_file,
    load_source,
    validate_mount,
)
from .engine.location import Location
from .errors import StorageConfigError, StorageNotFoundError
from .node import StorageNode
from .paths import normalize, split_mount

__all__ = ["StorageManager", "default_manager"]

ConfigSource = Union[str, Path, list[Any]]


class StorageManager:
    """Holds mounts by name and hands out :class:`StorageNode` objects.

    >>> storage = StorageManager()
    >>> storage.configure([{"name": "scratch", "type": "memory"}])
    >>> storage.node("scratch:notes/today.txt").fullpath
    'scratch:notes/today.txt'
    """

    def __init__(self, *, env: bool = True, lazy: bool = False) -> None:
        """Start with no mounts, or with those of ``$GENRO_STORAGE_CONFIG`` when it is set.

        One config file then serves the library, the CLI and every ``genro://`` fsspec
        user. ``env=False`` starts empty whatever the environment says (integrations that
        configure from their own settings pass it).

        ``lazy=True`` checks each mount's keys at ``configure()`` but builds its backend
        (importing its driver: s3fs, gcsfs, paramiko...) only when the mount is first
        used; errors of the build itself (a driver not installed, a permission level the
        backend cannot grant) then surface at that first use. The command line uses it,
        so that ``ls s3:`` imports the S3 driver and nothing else.
        """
        self._mounts: dict[str, StorageBackend] = {}  # built backends
        self._configs: dict[str, MountConfig] = {}  # every mount, built or not
        self._lazy = lazy
        self._build_lock = threading.RLock()
        self._fsspec: Any = None
        #: moves on every ``configure()``/``remove_mount()``: a backend looked up while it
        #: is unchanged is still the mount's (serving/hot.py checks it per request)
        self.generation = 0
        path = env_config_path() if env else None
        if path is not None:
            if not os.path.isfile(path):
                raise StorageConfigError(f"${CONFIG_ENV} names {path!r}, which is not a file")
            self.configure(load_mounts_file(path))

    # ------------------------------------------------------------------ configuration
    def configure(self, source: ConfigSource) -> None:
        """Add or replace mounts from a list of dicts or a YAML/JSON file (str or Path).

        All or nothing: when any entry is invalid, no mount of this call is applied and
        the error names the mount, the key and (for files) the file and line.
        """
        staged_mounts = dict(self._mounts)
        staged_configs = dict(self._configs)
        seen: dict[str, str] = {}
        for entry, origin in load_source(source):
            mount = validate_mount(entry, origin)
            if mount.name in seen:
                first = f" (first at {seen[mount.name]})" if seen[mount.name] else ""
                here = f" ({origin})" if origin else ""
                raise StorageConfigError(
                    f"Mount '{mount.name}' is defined twice in one configuration{here}{first}: "
                    f"mount names must be unique"
                )
            seen[mount.name] = origin
            self._check_parent(mount, [*staged_configs, *staged_mounts])
            if self._lazy:
                staged_mounts.pop(mount.name, None)  # rebuilt from the new options on use
            else:
                staged_mounts[mount.name] = self._build(mount, staged_mounts.__getitem__)
            staged_configs[mount.name] = mount
        self._mounts, self._configs = staged_mounts, staged_configs
        self.generation += 1

    def add_mount(self, config: dict[str, Any]) -> None:
        """Add (or replace) one mount."""
        self.configure([config])

    def remove_mount(self, name: str) -> None:
        """Forget a mount (its data is untouched); unknown names raise StorageNotFoundError."""
        if name not in self:
            raise self._unknown(name)
        backend = self._mounts.pop(name, None)
        self._configs.pop(name, None)
        self.generation += 1
        if backend is not None:
            backend.close()

    delete_mount = remove_mount

    @staticmethod
    def _check_parent(mount: MountConfig, names: list[str]) -> None:
        """A relative mount names a mount configured before it (or in the same call)."""
        if not mount.is_relative:
            return
        parent_name = mount.options["path"].partition(":")[0]
        if parent_name not in names:
            available = ", ".join(f"'{n}'" for n in dict.fromkeys(names)) or "none"
            raise StorageConfigError(
                f"Parent mount '{parent_name}' not found for relative mount '{mount.name}'. "
                f"Available mounts: {available}"
            )

    def _build(
        self, mount: MountConfig, parent_of: Callable[[str], StorageBackend]
    ) -> StorageBackend:
        options = mount.options
        if mount.is_relative:
            parent_name, _, subpath = options["path"].partition(":")
            return RelativeMountBackend(
                parent_of(parent_name),
                subpath.strip("/"),
                options.get("permissions") or "delete",
                mount.name,
            )
        backend = create_backend(options, mount.name)
        level = options.get("permissions")
        if level is None:
            return backend
        caps = backend.capabilities
        if caps.readonly and level in ("readwrite", "delete"):
            raise StorageConfigError(
                f"Mount '{mount.name}' is read-only: permissions '{level}' cannot be granted"
            )
        if not caps.write and level in ("readwrite", "delete"):
            raise StorageConfigError(
                f"Mount '{mount.name}' does not support write operations (permissions '{level}')"
            )
        if not caps.delete and level == "delete":
            raise StorageConfigError(
                f"Mount '{mount.name}' does not support delete operations (permissions '{level}')"
            )
        return RelativeMountBackend(backend, "", level, mount.name)

    # ------------------------------------------------------------------ introspection
    def get_mount_names(self) -> list[str]:
        # configured mounts (built or not), then backends set on ``_mounts`` directly
        return [*self._configs, *(n for n in self._mounts if n not in self._configs)]

    def has_mount(self, name: str) -> bool:
        return name in self._configs or name in self._mounts

    def __contains__(self, name: object) -> bool:
        return name in self._configs or name in self._mounts

    def __iter__(self) -> Iterator[str]:
        return iter(self.get_mount_names())

    def get_backend(self, name: str) -> StorageBackend:
        """The backend object of a mount (``StorageNotFoundError`` when unknown).

        A mount of a ``lazy`` manager is built here, on first use.
        """
        backend = self._mounts.get(name)
        if backend is not None:
            return backend
        if name not in self._configs:
            raise self._unknown(name)
        with self._build_lock:
            backend = self._mounts.get(name)
            if backend is None:
                backend = self._build(self._configs[name], self.get_backend)
                self._mounts[name] = backend
            return backend

    def mount_config(self, name: str) -> dict[str, Any]:
        """A copy of the options a mount was configured with."""
        if name not in self._configs:
            raise self._unknown(name)
        return dict(self._configs[name].options)

    def mount_configs(self) -> list[dict[str, Any]]:
        """Copies of every mount's options, parents before the relative mounts on them.

        ``StorageManager(env=False).configure(m.mount_configs())`` rebuilds the same
        mounts (what the ``genro://`` filesystem pickles instead of live connections).
        """
        configs = list(self._configs.values())
        ordered = [c for c in configs if not c.is_relative] + [c for c in configs if c.is_relative]
        return [dict(c.options) for c in ordered]

    @property
    def fs(self) -> Any:
        """These mounts as an fsspec filesystem (protocol ``genro``): ``MOUNT/path`` paths.

        >>> storage = StorageManager(env=False)
        >>> storage.configure([{"name": "scratch", "type": "memory"}])
        >>> storage.fs.pipe("scratch/fs-doc.txt", b"x")
        >>> storage.fs.cat("scratch/fs-doc.txt")
        b'x'
        """
        if self._fsspec is None:
            import fsspec
            from fsspec.registry import known_implementations

            if "genro" not in known_implementations:  # running from a source tree
                fsspec.register_implementation(
                    "genro", "genro_storage.integrations.fsspec.GenroFileSystem"
                )
            self._fsspec = fsspec.filesystem("genro", manager=self)
        return self._fsspec

    def _unknown(self, name: str) -> StorageNotFoundError:
        available = ", ".join(self.get_mount_names()) or "none"
        head, sep, rest = name.partition("/")
        hint = f" Did you mean '{head}:{rest}'?" if sep and head in self else ""
        return StorageNotFoundError(
            f"Mount point '{name}' not found.{hint} Available mounts: {available}"
        )

    def __repr__(self) -> str:
        names = ", ".join(self.get_mount_names()) or "none"
        return f"StorageManager(mounts=[{names}])"

    def cleanup(self, name: str, older_than: float = 3600.0, dry_run: bool = False) -> list[str]:
        """Remove what interrupted writes left on mount ``name`` (see ``StorageNode.cleanup``)."""
        return self.node(f"{name}:").cleanup(older_than=older_than, dry_run=dry_run)

    def close(self) -> None:
        """Close every backend (connections, caches)."""
        for backend in list(self._mounts.values()):
            backend.close()

    # ------------------------------------------------------------------ nodes
    def node(
        self, mount_or_path: str | None = None, *path_parts: str, version: int | str | None = None
    ) -> StorageNode:
        """A node for ``'mount:path'``, ``('mount', 'a', 'b')`` or ``('mount:a', 'b')``."""
        if mount_or_path is None and not path_parts:
            return StorageNode(self, None, None)
        if not isinstance(mount_or_path, str):
            raise TypeError(
                f"node() takes 'mount:path' strings, got {type(mount_or_path).__name__}"
            )
        mount, rest = split_mount(mount_or_path)
        backend = self.get_backend(mount)
        if backend.path_is_content:
            # the payload is data, not a path: never normalise it
            for part in path_parts:
                if not isinstance(part, str):
                    raise TypeError("path parts must be str")
            path = "/".join(p for p in (rest, *path_parts) if p)
        else:
            path = normalize(*([rest] if rest else []), *path_parts)
        return StorageNode(self, mount, path, version=version)

    def locate(self, fullpath: str) -> Location:
        """The engine's view of ``'mount:path'``: the mount's backend and the path."""
        return self.node(fullpath).location

    def glob(self, pattern: str) -> list[StorageNode]:
        """``glob('mount:dir/**/*.csv')``: the nodes of a mount matching a pathlib pattern."""
        mount, _, rest = pattern.partition(":")
        if not _ or not rest:
            raise ValueError(f"glob() takes 'mount:pattern', got {pattern!r}")
        head, magic = [], rest.strip("/").split("/")
        while magic and not any(c in magic[0] for c in "*?["):
            head.append(magic.pop(0))
        base = self.node(f"{mount}:{'/'.join(head)}")
        if not magic:
            return [base] if base.exists else []
        if not base.isdir:
            return []
        return list(base.glob("/".join(magic)))

    def iternode(self, *nodes: StorageNode) -> StorageNode:
        """A virtual node reading the concatenation of ``nodes`` (lazily)."""
        from .virtual import IterNode

        return IterNode(self, list(nodes))

    def diffnode(self, node1: StorageNode, node2: StorageNode) -> StorageNode:
        """A virtual node reading the unified diff of two text nodes."""
        from .virtual import DiffNode

        return DiffNode(self, node1, node2)


_default: StorageManager | None = None


def default_manager() -> StorageManager:
    """The process-wide manager behind ``genro://`` URLs given no manager or config.

    Built on first use from ``$GENRO_STORAGE_CONFIG`` (empty when it is unset).
    """
    global _default
    if _default is None:
        _default = StorageManager()
    return _default
