"""Turn command-line arguments into nodes: ``mount:path`` specs and plain local paths."""

from __future__ import annotations

import os
import re
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..errors import StorageConfigError, StorageError, StorageNotFoundError

if TYPE_CHECKING:  # imported on first use: `--version` and `--help` load no backend
    from ..manager import StorageManager
    from ..node import StorageNode

__all__ = ["CONFIG_ENV", "LOCAL_MOUNT", "Session", "Target", "Unsupported"]

CONFIG_ENV = "GENRO_STORAGE_CONFIG"
LOCAL_MOUNT = "_local"  # the implicit mount behind plain local paths, rooted at '/'
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


class Unsupported(StorageError):
    """The mount cannot do what the command asks (no URLs on local disk...)."""


class Target:
    """One resolved argument: the node, how to show it, and whether it named a directory."""

    def __init__(self, node: StorageNode, shown: str, trailing_slash: bool) -> None:
        self.node = node
        self.shown = shown
        self.trailing_slash = trailing_slash

    def __repr__(self) -> str:
        return f"Target({self.shown!r})"


def is_mount_spec(arg: str) -> bool:
    """``mount:path`` (a colon after a name without slashes), not a local path."""
    if arg.startswith(("/", "./", "../", "~")) or arg in (".", ".."):
        return False
    if _WINDOWS_DRIVE.match(arg) or ":" not in arg:
        return False
    name = arg.split(":", 1)[0]
    return bool(name) and "/" not in name and "\\" not in name


def _override_retries(mounts: list[Any], retries: int) -> None:
    """Set ``retries`` on every mount whose type takes it (S3, GCS, Azure), in place (the
    list keeps each entry's file and line for error messages)."""
    from ..backends.registry import BACKENDS

    for index, entry in enumerate(mounts):
        if not isinstance(entry, dict):
            continue  # configure() reports it, naming file and line
        spec = BACKENDS.get(str(entry.get("type") or entry.get("protocol") or ""))
        if spec is not None and "retries" in spec.optional:
            mounts[index] = {**entry, "retries": retries}


class Session:
    """The manager of one command run: configured mounts plus the implicit local mount.

    The manager is lazy: a mount's backend (and its driver: s3fs, paramiko...) is built
    when a command first touches the mount, so ``ls s3:`` imports nothing for the others.
    """

    def __init__(self, config: str | None = None, retries: int | None = None) -> None:
        self.config = config or os.environ.get(CONFIG_ENV) or None
        self.retries = retries  # --retries: overrides every network mount's ``retries``
        self._manager: StorageManager | None = None
        self._loaded = False
        self.serve: dict[str, Any] | None = None  # the file's ``serve:`` routes, if any

    @property
    def manager(self) -> StorageManager:
        """The command's manager, created on first use."""
        if self._manager is None:
            from ..manager import StorageManager

            self._manager = StorageManager(env=False, lazy=True)
        return self._manager

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._manager is not None:
            self._manager.close()

    # ------------------------------------------------------------------ mounts
    def load(self) -> StorageManager:
        """Configure the mounts of ``--config`` / ``GENRO_STORAGE_CONFIG`` (once)."""
        if not self._loaded:
            self._loaded = True
            if self.config:
                if not os.path.isfile(self.config):
                    raise StorageConfigError(f"configuration file not found: {self.config}")
                self._configure(self.config)
        return self.manager

    def _configure(self, path: str) -> None:
        """A mounts list, or an app config ``{mounts: [...], serve: {...}}``."""
        from ..config_file import read_config_file

        # the reader of configure() and of the apps: errors name the file and the line
        document = read_config_file(path, app=True)
        if self.retries is not None:
            _override_retries(document.mounts, self.retries)
        self.manager.configure(document.mounts)
        self.serve = dict(document.serve) if document.serve else None

    def mount_names(self) -> list[str]:
        """The configured mounts (the implicit local mount is not listed)."""
        return [n for n in self.load().get_mount_names() if n != LOCAL_MOUNT]

    def _local_root(self) -> None:
        if not self.manager.has_mount(LOCAL_MOUNT):
            self.manager.configure([{"name": LOCAL_MOUNT, "type": "local", "path": os.sep}])

    # ------------------------------------------------------------------ arguments
    def target(self, arg: str, *, local: bool | None = None) -> Target:
        """Resolve one argument; ``local=True`` forces a local path (``put``'s source)."""
        manager = self.load()
        trailing = arg.endswith(("/", ":"))
        if local is None:
            local = not is_mount_spec(arg)
        if not local:
            mount = arg.split(":", 1)[0]
            if not manager.has_mount(mount) or mount == LOCAL_MOUNT:
                available = ", ".join(self.mount_names()) or "none configured"
                hint = "" if self.config else f" (no --config and no {CONFIG_ENV})"
                raise StorageNotFoundError(
                    f"unknown mount '{mount}' in '{arg}'; available mounts: {available}{hint}"
                )
            node = manager.node(arg)
            return Target(node, node.fullpath, trailing)
        self._local_root()
        absolute = os.path.abspath(os.path.expanduser(arg))
        node = manager.node(f"{LOCAL_MOUNT}:{absolute.lstrip(os.sep)}")
        return Target(node, absolute, trailing)

    def show(self, node: StorageNode) -> str:
        """How output names a node: the real path for local paths, else ``mount:path``."""
        if node.mount_name == LOCAL_MOUNT:
            return os.sep + (node.path or "")
        return node.fullpath

    def describe_mount(self, name: str, capabilities: bool = True) -> dict[str, Any]:
        """Name, type, location and capabilities of a mount, without secrets.

        ``capabilities=False`` reads the configuration only: the mount is not built and
        its driver not imported (the text form of ``mounts``).
        """
        manager = self.load()
        options = manager.mount_config(name)
        location = ""
        for key in ("path", "bucket", "container", "base_url", "url", "file", "host", "repo"):
            value = options.get(key)
            if value:
                location = value.__name__ + "()" if callable(value) else str(value)
                break
        if options.get("prefix"):
            location = f"{location}/{str(options['prefix']).strip('/')}"
        if not capabilities:
            return {
                "name": name,
                "type": options.get("type") or "relative",
                "location": location,
                "permissions": options.get("permissions") or "",
            }
        backend = manager.get_backend(name)
        caps = backend.capabilities
        return {
            "name": name,
            "type": options.get("type") or ("relative" if ":" in location else backend.protocol),
            "location": location,
            "permissions": options.get("permissions") or "",
            "readonly": bool(caps.readonly or options.get("permissions") == "readonly"),
            "capabilities": str(caps),
        }
