"""What an object store records with each object it stores: Content-Type and defaults.

Every write to S3, GCS or Azure (``write_bytes``, ``open('wb')``, ``write_stream``,
``copy_to``, uploads, the CLI) sends a Content-Type: the caller's (an upload's own
``content_type``), else the mount's ``object_parameters['content_type']``, else the one
the name implies (``mimetypes``), else ``application/octet-stream``. A presigned or public
URL then serves a stylesheet as ``text/css``, not as ``binary/octet-stream``.

A mount's ``object_parameters`` sets the defaults of every object it writes, as
django-storages' ``object_parameters`` / ``AWS_S3_OBJECT_PARAMETERS`` do::

    {"name": "media", "type": "s3", "bucket": "b",
     "object_parameters": {"cache_control": "max-age=86400",
                           "content_disposition": "attachment",
                           "metadata": {"owner": "site"}}}

Keys: ``cache_control``, ``content_disposition``, ``content_encoding``,
``content_language``, ``content_type``, ``metadata`` (a dict of str). S3's spelling
(``CacheControl``, ``ContentDisposition``, ``Metadata``...) is accepted too; any other key
is an error naming the mount.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import StorageConfigError

__all__ = ["HEADER_KEYS", "ObjectParameters", "guess_content_type", "parse_object_parameters"]

#: the per-object HTTP headers an object store keeps, in this module's spelling
HEADER_KEYS = (
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "content_type",
)
DEFAULT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ObjectParameters:
    """Header defaults and user metadata for the objects one mount writes."""

    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    def for_object(self, path: str, content_type: str | None = None) -> dict[str, str]:
        """The headers of one object: the defaults, with a Content-Type always set."""
        headers = dict(self.headers)
        if content_type:
            headers["content_type"] = content_type
        elif not headers.get("content_type"):
            headers["content_type"] = guess_content_type(path)
        return headers


def guess_content_type(path: str) -> str:
    """The media type ``path``'s name implies, or ``application/octet-stream``."""
    guessed, encoding = mimetypes.guess_type(path.rsplit("/", 1)[-1], strict=False)
    if encoding:  # "x.css.gz" is a gzip file, not a stylesheet
        return {"gzip": "application/gzip", "bzip2": "application/x-bzip2"}.get(
            encoding, DEFAULT_TYPE
        )
    return guessed or DEFAULT_TYPE


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def parse_object_parameters(value: Any, mount: str) -> ObjectParameters:
    """Check a mount's ``object_parameters`` option (None means none)."""
    if value is None:
        return ObjectParameters()
    if not isinstance(value, Mapping):
        raise StorageConfigError(
            f"Mount '{mount}': object_parameters must be a dict, got {type(value).__name__}"
        )
    headers: dict[str, str] = {}
    metadata: dict[str, str] = {}
    for key, item in value.items():
        name = _snake(str(key))
        if name == "metadata":
            if not isinstance(item, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in item.items()
            ):
                raise StorageConfigError(
                    f"Mount '{mount}': object_parameters['{key}'] must be a dict of str to str"
                )
            metadata.update(item)
        elif name in HEADER_KEYS:
            if not isinstance(item, str):
                raise StorageConfigError(
                    f"Mount '{mount}': object_parameters['{key}'] must be a string"
                )
            headers[name] = item
        else:
            known = ", ".join((*HEADER_KEYS, "metadata"))
            raise StorageConfigError(
                f"Mount '{mount}': unknown object_parameters key '{key}' (known: {known})"
            )
    return ObjectParameters(headers, metadata)
