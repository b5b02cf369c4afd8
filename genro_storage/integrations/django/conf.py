"""genro-storage's Django settings, read once and forgotten when a test changes them.

==================================  =========================================================
Setting                             Meaning
==================================  =========================================================
``GENRO_STORAGE_MOUNTS``            the mounts: a list of mount dicts, or the path of a YAML
                                    or JSON file holding that list (the same setting name as
                                    in Flask and Starlette; the old name ``GENRO_STORAGE`` is
                                    still read, with a ``DeprecationWarning``). Without it,
                                    the django-storages settings make one mount (see
                                    :mod:`.compat`)
``GENRO_STORAGE_SERVE``             ``{mount: options}`` (or a list of mount names): the
                                    mounts the serve view answers for; any other mount is a
                                    404. Options as in :mod:`genro_storage.serving.routes`:
                                    ``private`` (links need a valid signature),
                                    ``cache_max_age``, ``download``, ``index``, ``delivery``
                                    (``redirect``: 302 to the presigned URL)...
``GENRO_STORAGE_SIGNING_SECRET``    key for signed links, or a list of keys (newest first,
                                    for rotation); defaults to one derived from SECRET_KEY
``GENRO_STORAGE_<OPTION>``          project-wide default of a :class:`GenroStorage` option
                                    (``MOUNT``, ``LOCATION``, ``FILE_OVERWRITE``...); the
                                    ``OPTIONS`` of a ``STORAGES`` entry override it
==================================  =========================================================
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.crypto import salted_hmac

from genro_storage import StorageManager
from genro_storage.errors import StorageConfigError

from .._server import FileServer, make_server

__all__ = ["get_manager", "get_server", "reset", "signing_secrets"]

_lock = threading.Lock()
_manager: StorageManager | None = None
#: mounts the django-storages drop-ins build from their settings (see :mod:`.compat`)
_registered: dict[str, dict[str, Any]] = {}
_server: FileServer | None = None


def get_manager() -> StorageManager:
    """The project's :class:`StorageManager`, built from ``settings.GENRO_STORAGE_MOUNTS``."""
    global _manager
    manager = _manager
    if manager is not None:
        return manager
    with _lock:
        if _manager is None:
            _manager = _build_manager()
        return _manager


def mounts_setting() -> Any:
    """The mounts: ``GENRO_STORAGE_MOUNTS``, else the deprecated ``GENRO_STORAGE``, else None."""
    source = getattr(settings, "GENRO_STORAGE_MOUNTS", None)
    if source is None and getattr(settings, "GENRO_STORAGE", None) is not None:
        warnings.warn(
            "the GENRO_STORAGE setting is renamed GENRO_STORAGE_MOUNTS (the name Flask and "
            "Starlette use too); GENRO_STORAGE will stop working in a future release",
            DeprecationWarning,
            stacklevel=3,
        )
        source = settings.GENRO_STORAGE
    return source


def _build_manager() -> StorageManager:
    source = mounts_setting()
    if source is None and _registered:
        source = []
    if source is None:
        raise ImproperlyConfigured(
            "GENRO_STORAGE_MOUNTS is not set: give it a list of mount dicts or a YAML/JSON path"
        )
    if isinstance(source, tuple):
        source = list(source)
    manager = StorageManager(env=False)
    try:
        manager.configure(source)
        if _registered:
            manager.configure(list(_registered.values()))
    except (StorageConfigError, TypeError, FileNotFoundError) as exc:
        raise ImproperlyConfigured(f"GENRO_STORAGE_MOUNTS: {exc}") from exc
    return manager


def register_mount(config: dict[str, Any]) -> None:
    """Add a mount built from other settings (a django-storages drop-in) to the manager."""
    name = str(config["name"])
    with _lock:
        if name in _registered:
            return
        _registered[name] = dict(config)
        if _manager is not None and not _manager.has_mount(name):
            try:
                _manager.configure([config])
            except (StorageConfigError, TypeError) as exc:
                del _registered[name]
                raise ImproperlyConfigured(f"{name}: {exc}") from exc


def get_server() -> FileServer:
    """The file server behind the serve view: one route per mount of GENRO_STORAGE_SERVE."""
    global _server
    server = _server
    if server is None:
        server = make_server(
            get_manager(),
            getattr(settings, "GENRO_STORAGE_SERVE", None),
            setting="GENRO_STORAGE_SERVE",
            secrets=signing_secrets(),
            error=ImproperlyConfigured,
        )
        _server = server
    return server


def signing_secrets() -> list[str]:
    """The keys that sign serve-view links, newest first."""
    configured = getattr(settings, "GENRO_STORAGE_SIGNING_SECRET", None)
    if configured:
        if isinstance(configured, str):
            return [configured]
        return [str(secret) for secret in configured]
    derived = salted_hmac("genro_storage.signed-url", "", algorithm="sha256").hexdigest()
    return [derived]


def storage_default(option: str, fallback: Any) -> Any:
    """``settings.GENRO_STORAGE_<OPTION>`` or ``fallback``."""
    return getattr(settings, f"GENRO_STORAGE_{option.upper()}", fallback)


def reset() -> None:
    """Forget the manager and policies: the next use reads the settings again."""
    global _manager, _server
    with _lock:
        _manager = None
        _server = None
        _registered.clear()  # the drop-in storages register theirs again on next use


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting.startswith("GENRO_STORAGE") or setting == "SECRET_KEY":
        reset()
