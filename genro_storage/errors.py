"""The one exception tree of genro-storage.

::

    StorageError(Exception)
    ├── StorageNotFoundError(StorageError, FileNotFoundError)   unknown mount, missing file/bucket
    ├── StorageIsADirectoryError(StorageError, IsADirectoryError) a file op on a directory
    ├── StoragePermissionError(StorageError, PermissionError)   readonly mount, denied delete
    │   ├── MountRootError                                      delete/write of a mount root
    │   ├── CapabilityError                                     backend lacks a capability
    │   └── StorageAuthError                                    credentials refused by a server
    ├── StorageConfigError(StorageError, ValueError)            bad mount config (key, file, line)
    │   ├── UnknownBackendError                                 unknown ``type``
    │   └── MissingDependencyError(…, ImportError)              optional extra not installed
    ├── PathTraversalError(StorageError, ValueError)            ``..``, NUL, escapes, encoded forms
    └── StorageConnectionError(StorageError, ConnectionError)   endpoint unreachable

Every leaf also subclasses the builtin a caller would naturally catch, so code written
against genro-storage 0.4.2 (``except FileNotFoundError``, ``except ValueError``...) keeps
working. Client-library errors are mapped into this tree at the backend edge, with the
mount name in the message.
"""

from __future__ import annotations

__all__ = [
    "CapabilityError",
    "MissingDependencyError",
    "PathTraversalError",
    "StorageAuthError",
    "StorageConfigError",
    "StorageConnectionError",
    "StorageError",
    "StorageNotFoundError",
    "StoragePermissionError",
    "UnknownBackendError",
]


class StorageError(Exception):
    """Base class of every error raised by genro-storage itself."""


class StorageNotFoundError(StorageError, FileNotFoundError):
    """A mount, file, directory or bucket does not exist."""


class StoragePermissionError(StorageError, PermissionError):
    """The operation is not allowed on this mount (readonly, no delete permission...)."""


class MountRootError(StoragePermissionError):
    """Deleting (or writing a file onto) the root of a mount, in any spelling.

    The library never deletes a mount root, a bucket, a container or a share: delete
    what is inside instead.
    """


class StorageIsADirectoryError(StorageError, IsADirectoryError):
    """A file operation (a write, a read) on a directory."""


class CapabilityError(StoragePermissionError):
    """The backend cannot do this at all (versioning on local disk, metadata on SFTP...)."""


class StorageAuthError(StoragePermissionError):
    """The storage server refused the configured credentials."""


class StorageConfigError(StorageError, ValueError):
    """A mount configuration is invalid. The message names the mount, key, file and line."""


class UnknownBackendError(StorageConfigError):
    """The ``type`` (or ``protocol``) of a mount is not a known backend."""


class MissingDependencyError(StorageConfigError, ImportError):
    """A backend's optional dependency is not installed; the message says which extra."""


class PathTraversalError(StorageError, ValueError):
    """A path tries to leave its mount (``..``, NUL bytes, encoded separators, symlinks)."""


class StorageConnectionError(StorageError, ConnectionError):
    """The storage endpoint could not be reached."""


class CopyError(StorageError):
    """Some files of a tree copy failed; ``failures`` lists ``(source fullpath, exception)``."""

    def __init__(self, failures: list[tuple[str, BaseException]]) -> None:
        self.failures = failures
        lines = "; ".join(f"{path}: {exc}" for path, exc in failures[:20])
        more = f" (+{len(failures) - 20} more)" if len(failures) > 20 else ""
        super().__init__(f"{len(failures)} file(s) failed to copy: {lines}{more}")


def missing_extra(exc: ImportError, extra: str, feature: str) -> MissingDependencyError:
    """The error for ``feature`` imported without its optional dependency: names the
    missing package and the ``pip install`` that fixes it (as ``configure()`` does)."""
    package = (exc.name or "").split(".")[0] or str(exc)
    return MissingDependencyError(
        f"{feature} needs the '{package}' package, which is not installed. "
        f"Fix: pip install 'genro-storage[{extra}]'"
    )


__all__ += ["CopyError", "MountRootError", "StorageIsADirectoryError", "missing_extra"]
