"""``GenroStorage``: a Django ``Storage`` over one genro-storage mount.

Use it as ``STORAGES["default"]``, ``STORAGES["staticfiles"]`` or (Django 4.2) the legacy
``DEFAULT_FILE_STORAGE``::

    STORAGES = {
        "default": {
            "BACKEND": "genro_storage.integrations.django.GenroStorage",
            "OPTIONS": {"mount": "media"},
        },
    }

Options (each falls back to ``settings.GENRO_STORAGE_<OPTION>``, then to the default):

=======================  ===============  ==================================================
option                   default          meaning
=======================  ===============  ==================================================
``mount``                (required)       the mount of ``GENRO_STORAGE_MOUNTS`` to store files in
``location``             ``""``           folder inside the mount that names are relative to
``file_overwrite``       ``False``        save over an existing name instead of picking a
                                          free one (``exists()`` stays truthful either way)
``base_url``             ``None``         public URL of ``location``: ``url()`` joins names
                                          to it
``querystring_auth``     ``False``        ``url()`` gives the backend's presigned URL (S3,
                                          GCS, Azure) when the mount has one
``querystring_expire``   ``3600``         seconds presigned and signed links stay valid
``url_name``             ``"genro_storage:serve"``  the serve view ``url()`` reverses
``custom_domain``        ``None``         ``url()`` is ``<url_protocol>//<domain>/<location>/
                                          <name>`` (a CDN), as django-storages'
``url_protocol``         ``"https:"``     the custom domain's scheme
``public_urls``          ``False``        ``url()`` is the object's unsigned URL (a public
                                          bucket) when not presigned
=======================  ===============  ==================================================

Without ``base_url`` and presigned URLs, ``url()`` points at the serve view when the mount
is listed in ``GENRO_STORAGE_SERVE`` (signed when it is ``private``), and raises
``ValueError`` otherwise, as Django's ``FileSystemStorage`` does without ``MEDIA_URL``.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urljoin

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from django.utils.functional import cached_property

from genro_storage import StorageNode
from genro_storage.errors import PathTraversalError
from genro_storage.paths import MAX_SEGMENT_BYTES, normalize

from .._server import is_served, sign_query
from . import conf

__all__ = ["GenroFile", "GenroStorage"]

_SUFFIX = 8  # Storage.get_alternative_name adds "_" and 7 random characters

_DEFAULTS: dict[str, Any] = {
    "mount": None,
    "location": "",
    "file_overwrite": False,
    "base_url": None,
    "querystring_auth": False,
    "querystring_expire": 3600,
    "url_name": "genro_storage:serve",
    "custom_domain": None,
    "url_protocol": "https:",
    "public_urls": False,
}


class GenroFile(File):
    """A stored file: streams from the node (a local file or a block-buffered remote
    reader, never a spooled copy of the whole object) and reopens through it."""

    file: Any  # the node's file object (Django's File has no type hints)

    def __init__(self, node: StorageNode, name: str, mode: str = "rb") -> None:
        self.node = node
        self.mode = mode
        super().__init__(node.open(mode), name=name)

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> GenroFile:
        if not self.closed:
            # Django rewinds an open file; an object-store upload cannot rewind, so an
            # unfinished "wb" file is left where it is (closing it stores what was written)
            if self.file.seekable():
                self.seek(0)
        else:  # File.open would look for ``name`` relative to the working directory
            self.mode = mode or self.mode
            self.file = self.node.open(self.mode)
        return self

    @cached_property
    def size(self) -> int:
        return self.node.size


def _utf8_chunks(content: File) -> Iterator[bytes]:
    """``content``'s chunks as bytes: text (``ContentFile("...")``, ``StringIO``, a
    text-mode file) is encoded as UTF-8, as FileSystemStorage stores it."""
    for chunk in content.chunks():
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk


@deconstructible(path="genro_storage.integrations.django.GenroStorage")
class GenroStorage(Storage):
    """A Django storage whose files live on a genro-storage mount (see the module doc)."""

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(_DEFAULTS))
        if unknown:
            raise ImproperlyConfigured(
                f"GenroStorage: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(_DEFAULTS))}"
            )
        self._explicit = options
        setting_changed.connect(self._on_setting_changed)

    # ------------------------------------------------------------------ options
    @cached_property
    def _options(self) -> dict[str, Any]:
        resolved = {
            key: self._explicit[key] if key in self._explicit else conf.storage_default(key, dflt)
            for key, dflt in _DEFAULTS.items()
        }
        if not resolved["mount"]:
            raise ImproperlyConfigured(
                "GenroStorage needs a mount: set OPTIONS['mount'] or GENRO_STORAGE_MOUNT"
            )
        try:
            resolved["location"] = normalize(str(resolved["location"] or ""))
        except PathTraversalError as exc:
            raise ImproperlyConfigured(f"GenroStorage location: {exc}") from exc
        return resolved

    def _on_setting_changed(self, *, setting: str, **_: Any) -> None:
        if setting.startswith("GENRO_STORAGE"):
            self.__dict__.pop("_options", None)

    @property
    def mount(self) -> str:
        return str(self._options["mount"])

    @property
    def location(self) -> str:
        return str(self._options["location"])

    @property
    def file_overwrite(self) -> bool:
        return bool(self._options["file_overwrite"])

    @property
    def base_url(self) -> str | None:
        base = self._options["base_url"]
        if base and not str(base).endswith("/"):
            base = f"{base}/"
        return None if base is None else str(base)

    # ------------------------------------------------------------------ names -> nodes
    def node(self, name: str | os.PathLike[str]) -> StorageNode:
        """The genro-storage node behind ``name`` (traversal raises SuspiciousFileOperation).

        ``.`` and empty segments name the same file as without them (``./a//b`` is
        ``a/b``), as on a local disk.
        """
        name = str(name)
        posix = pathlib.PurePosixPath(name.replace("\\", "/"))
        if posix.is_absolute():
            raise SuspiciousFileOperation(f"Detected path traversal attempt in '{name}'")
        try:
            relative = normalize(self.location, "/".join(p for p in posix.parts if p != "."))
        except PathTraversalError as exc:
            raise SuspiciousFileOperation(f"Detected path traversal attempt in '{name}'") from exc
        manager = conf.get_manager()
        if not manager.has_mount(self.mount):
            raise ImproperlyConfigured(
                f"GenroStorage mount {self.mount!r} is not in GENRO_STORAGE_MOUNTS "
                f"(configured: {', '.join(manager.get_mount_names()) or 'none'})"
            )
        return manager.node(self.mount, relative) if relative else manager.node(f"{self.mount}:")

    # ------------------------------------------------------------------ Storage API
    def _open(self, name: str, mode: str = "rb") -> GenroFile:
        return GenroFile(self.node(name), name, mode)

    def _save(self, name: str, content: Any) -> str:
        """Store ``content`` under ``name``, or under a free alternative when another
        writer took ``name`` meanwhile: without ``file_overwrite`` every name is created
        with the backend's exclusive create (see :meth:`StorageBackend.save_stream`), as
        FileSystemStorage reserves names with ``O_EXCL``. Text is stored as UTF-8."""
        content_type = getattr(content, "content_type", None)
        manager = conf.get_manager()
        while True:
            node = self.node(name)
            backend = manager.get_backend(self.mount)
            try:
                backend.save_stream(
                    node.path or "",
                    _utf8_chunks(content),
                    exclusive=not self.file_overwrite,
                    content_type=content_type if isinstance(content_type, str) else None,
                )
            except FileExistsError:
                name = self.get_available_name(name)
                continue
            return str(name).replace("\\", "/")

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """Django's rules; with ``file_overwrite`` the name itself (cut to ``max_length``).

        Without ``max_length``, a name whose last segment is too long to take Django's
        ``_<7 characters>`` suffix within the 255 bytes a file name may have (a name of
        248 to 255 bytes) gets alternatives of its own length, its stem cut to make
        room, where FileSystemStorage fails with "File name too long".
        """
        if not self.file_overwrite:
            name = str(name).replace("\\", "/")
            segment = name.rsplit("/", 1)[-1]
            if max_length is None and len(segment.encode()) > MAX_SEGMENT_BYTES - _SUFFIX:
                max_length = len(name)
            return str(super().get_available_name(name, max_length=max_length))
        name = str(name).replace("\\", "/")
        validate_file_name(name, allow_relative_path=True)
        if max_length is None or len(name) <= max_length:
            return name
        dir_name, file_name = os.path.split(name)
        file_root, file_ext = os.path.splitext(file_name)
        file_root = file_root[: -(len(name) - max_length)]
        if not file_root:
            raise SuspiciousFileOperation(
                f'Storage can not find an available filename for "{name}". Please make sure '
                'that the corresponding file field allows sufficient "max_length".'
            )
        return os.path.join(dir_name, f"{file_root}{file_ext}")

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        node = self.node(name)
        if node.isdir and node.children():
            raise OSError(f"Directory not empty: '{name}'")
        node.delete()

    def exists(self, name: str) -> bool:
        return self.node(name).exists

    def listdir(self, path: str | os.PathLike[str]) -> tuple[list[str], list[str]]:
        node = self.node(path)
        backend = conf.get_manager().get_backend(self.mount)
        directories: list[str] = []
        files: list[str] = []
        try:
            entries = backend.list_detail(node.path or "")
        except FileNotFoundError:
            if node.path != self.location:
                raise
            # the storage root: an object store has no folder until a file is saved
            return directories, files
        for entry in entries:
            (directories if entry.is_dir else files).append(entry.name)
        return directories, files

    def size(self, name: str) -> int:
        return self.node(name).size

    def url(
        self,
        name: str | None,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """The file's URL, as django-storages builds it (same keywords).

        In order: ``custom_domain`` (``<url_protocol>//<domain>/<location>/<name>``),
        ``base_url``, the backend's presigned URL with ``querystring_auth`` (``expire``
        seconds, default ``querystring_expire``; ``parameters`` are the service's GET
        parameters, ``http_method`` signs another method: S3), the object's unsigned URL
        with ``public_urls`` (a public bucket), else the serve view.
        """
        relative = filepath_to_uri(name or "").lstrip("/")
        query = f"?{urlencode(parameters)}" if parameters else ""
        domain = self._options["custom_domain"]
        if domain:
            key = "/".join(p for p in (filepath_to_uri(self.location), relative) if p)
            return f"{self._options['url_protocol']}//{domain}/{key}{query}"
        if self.base_url is not None:
            return str(urljoin(self.base_url, relative)) + query
        node = self.node(name or "")
        expires = int(expire if expire is not None else self._options["querystring_expire"])
        backend = conf.get_manager().get_backend(self.mount)
        if self._options["querystring_auth"] and node.capabilities.presigned_urls:
            extra: dict[str, Any] = dict(parameters or {})
            if http_method:
                extra["http_method"] = http_method
            presigned = backend.url(node.path or "", expires_in=expires, **extra)
            if presigned:
                return str(presigned)
        public = backend.public_url(node.path or "") if self._options["public_urls"] else None
        if public is not None:
            return public + query
        server = conf.get_server()
        if not is_served(server, self.mount):
            raise ValueError(
                f"This file is not accessible via a URL: mount {self.mount!r} has no "
                "base_url and is not in GENRO_STORAGE_SERVE."
            )
        url = reverse(self._options["url_name"], kwargs={"mount": self.mount, "path": node.path})
        signed = sign_query(server, self.mount, node.path or "", expires)
        return f"{url}?{signed}" if signed else url

    def path(self, name: str) -> str:
        local = self.node(name).os_path
        if local is None:
            raise NotImplementedError(
                f"This backend doesn't support absolute paths (mount {self.mount!r} is not "
                "on local disk)."
            )
        return local

    # ------------------------------------------------------------------ times
    def _datetime(self, timestamp: float) -> datetime:
        # as FileSystemStorage: aware UTC with USE_TZ, naive local time without
        return datetime.fromtimestamp(timestamp, tz=timezone.utc if settings.USE_TZ else None)

    def _os_stat(self, name: str) -> os.stat_result:
        try:
            return os.stat(self.path(name))
        except NotImplementedError:
            raise NotImplementedError(
                f"mount {self.mount!r} does not record access or creation times"
            ) from None

    def get_modified_time(self, name: str) -> datetime:
        return self._datetime(self.node(name).mtime)

    def get_accessed_time(self, name: str) -> datetime:
        return self._datetime(self._os_stat(name).st_atime)

    def get_created_time(self, name: str) -> datetime:
        return self._datetime(self._os_stat(name).st_ctime)
