"""Backend types: the keys each needs, the module that builds it, the extra that installs it.

Key validation happens here, before any driver import, so a missing key is reported even
when the driver is not installed. Driver modules load lazily; a missing dependency raises
:class:`~genro_storage.errors.MissingDependencyError` naming the ``pip install`` that fixes it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from ..errors import MissingDependencyError, StorageConfigError, UnknownBackendError
from ._transfer import NETWORK_OPTIONS
from .base import StorageBackend

__all__ = [
    "BACKENDS",
    "BackendFactory",
    "BackendSpec",
    "create_backend",
    "register_backend",
    "spec_for",
]

#: Builds a backend from a mount's options and name: a function, or a StorageBackend
#: subclass whose ``__init__`` takes ``(config, mount_name)``.
BackendFactory = Callable[[dict[str, Any], str], StorageBackend]


@dataclass(frozen=True)
class BackendSpec:
    """How to build one backend type."""

    type: str
    label: str  # how messages name it: "S3 storage 'x' missing required field: 'bucket'"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    module: str = ""  # genro_storage.backends.<module>, exposing create(config, mount_name)
    imports: tuple[str, ...] = ()  # third-party modules the driver needs
    extra: str | None = None  # pip extra that installs them
    #: a registered type's builder, or ``"package.module:name"`` imported on first use
    factory: Union[BackendFactory, str, None] = None

    def install_hint(self) -> str:
        if self.extra:
            return f"pip install 'genro-storage[{self.extra}]'"
        return f"pip install {' '.join(self.imports)}" if self.imports else ""

    def builder(self) -> BackendFactory:
        """The callable that builds this type (imports its module on first use)."""
        if self.factory is None:
            module = importlib.import_module(f"genro_storage.backends.{self.module}")
            create: BackendFactory = module.create
            return create
        if isinstance(self.factory, str):
            module_name, _, attr = self.factory.partition(":")
            found: BackendFactory = getattr(importlib.import_module(module_name), attr)
            return found
        return self.factory


_SPECS = [
    BackendSpec("local", "Local", ("path",), (), "local"),
    BackendSpec("memory", "Memory", (), ("base_path",), "memory"),
    BackendSpec("base64", "Base64", (), (), "base64"),
    BackendSpec(
        "s3",
        "S3",
        ("bucket",),
        (
            "prefix",
            "region",
            "anon",
            "key",
            "secret",
            "endpoint_url",
            "token",
            "client_kwargs",
            "config_kwargs",
            "version_aware",
            *NETWORK_OPTIONS,
            "multipart_threshold",
            "object_parameters",
            "client",
        ),
        "s3",
        ("s3fs",),
        "s3",
    ),
    BackendSpec(
        "gcs",
        "GCS",
        ("bucket",),
        ("prefix", "token", "project", "endpoint_url", "object_parameters", *NETWORK_OPTIONS),
        "gcs",
        ("gcsfs",),
        "gcs",
    ),
    BackendSpec(
        "azure",
        "Azure",
        ("container", "account_name"),
        (
            "account_key",
            "sas_token",
            "connection_string",
            "prefix",
            "object_parameters",
            *NETWORK_OPTIONS,
        ),
        "azure",
        ("adlfs",),
        "azure",
    ),
    BackendSpec(
        "http", "HTTP", ("base_url",), ("headers",), "http", ("aiohttp", "requests"), "http"
    ),
    BackendSpec(
        "smb",
        "SMB",
        ("host", "share"),
        ("path", "username", "password", "domain", "port"),
        "smb",
        ("smbprotocol",),
        "smb",
    ),
    BackendSpec(
        "sftp",
        "SFTP",
        ("host", "username"),
        ("path", "password", "port", "key_filename", "passphrase", "timeout"),
        "sftp",
        ("paramiko",),
        "sftp",
    ),
    BackendSpec("zip", "ZIP", ("file",), ("mode", "target_protocol", "target_options"), "archives"),
    BackendSpec(
        "tar", "TAR", ("file",), ("compression", "target_protocol", "target_options"), "archives"
    ),
    BackendSpec("git", "Git", ("path",), ("ref", "fo"), "git", ("pygit2",), "git"),
    BackendSpec(
        "github",
        "GitHub",
        ("org", "repo"),
        ("sha", "ref", "username", "token", "api_url"),
        "github",
        ("requests",),
        "github",
    ),
    BackendSpec(
        "webdav",
        "WebDAV",
        ("url",),
        ("username", "password", "token", "cert", "verify_ssl", "path"),
        "webdav",
        ("webdav4",),
        "webdav",
    ),
    BackendSpec(
        "libarchive",
        "LibArchive",
        ("file",),
        ("target_protocol", "target_options"),
        "libarchive",
        ("libarchive",),
        "libarchive",
    ),
]

BACKENDS: dict[str, BackendSpec] = {spec.type: spec for spec in _SPECS}


def register_backend(
    type_name: str,
    factory: BackendFactory | str,
    *,
    required: tuple[str, ...] | list[str] = (),
    optional: tuple[str, ...] | list[str] = (),
    label: str | None = None,
    imports: tuple[str, ...] | list[str] = (),
    replace: bool = False,
) -> BackendSpec:
    """Add a backend type, usable as ``{"type": type_name, ...}`` in every mount config.

    ``factory(config, mount_name)`` builds the backend (a :class:`StorageBackend` subclass
    taking those two arguments qualifies); a ``"package.module:name"`` string is imported
    only when a mount of this type is configured. ``required`` keys are checked before
    anything is imported, naming the mount; ``imports`` are the third-party modules it
    needs (a missing one is reported with the ``pip install`` that fixes it). Registering
    an existing type raises ``ValueError`` unless ``replace=True``.
    """
    if not isinstance(type_name, str) or not type_name or ":" in type_name:
        raise ValueError(f"backend type must be a non-empty name without ':', got {type_name!r}")
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise TypeError(
            f"register_backend('{type_name}'): factory must be callable or a "
            f"'package.module:name' string, got {factory!r}"
        )
    if type_name in BACKENDS and not replace:
        raise ValueError(
            f"backend type '{type_name}' is already registered; pass replace=True to replace it"
        )
    spec = BackendSpec(
        type_name,
        label or type_name,
        tuple(required),
        tuple(optional),
        imports=tuple(imports),
        factory=factory,
    )
    BACKENDS[type_name] = spec
    return spec


def spec_for(type_name: str, mount_name: str) -> BackendSpec:
    try:
        return BACKENDS[type_name]
    except (KeyError, TypeError):
        known = ", ".join(BACKENDS)
        raise UnknownBackendError(
            f"Unknown storage type '{type_name}' for mount '{mount_name}'. Supported types: {known}"
        ) from None


def check_required(spec: BackendSpec, config: Mapping[str, Any], mount_name: str) -> None:
    for key in spec.required:
        if key not in config or config[key] is None:
            raise StorageConfigError(
                f"{spec.label} storage '{mount_name}' missing required field: '{key}'"
            )


def _import_driver(spec: BackendSpec, mount_name: str) -> None:
    for module in spec.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingDependencyError(
                f"Mount '{mount_name}' of type '{spec.type}' needs the '{module}' package, "
                f"which is not installed ({exc}). Fix: {spec.install_hint()}"
            ) from exc


def create_backend(config: Mapping[str, Any], mount_name: str) -> StorageBackend:
    """Validate ``config`` for its type and build the backend."""
    spec = spec_for(config.get("type"), mount_name)  # type: ignore[arg-type]
    check_required(spec, config, mount_name)
    _import_driver(spec, mount_name)
    backend = spec.builder()(dict(config), mount_name)
    if not isinstance(backend, StorageBackend):
        raise StorageConfigError(
            f"Mount '{mount_name}': the '{spec.type}' backend type built "
            f"{type(backend).__name__}, not a StorageBackend"
        )
    backend.mount_name = mount_name
    return backend
