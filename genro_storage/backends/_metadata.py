"""What custom metadata each object store accepts, checked before anything is sent.

S3 and Azure carry custom metadata in HTTP headers (``x-amz-meta-<key>``,
``x-ms-meta-<key>``), so keys must be header-name tokens and values printable ASCII;
Azure further wants keys that are C# identifiers. Sent unchecked, a bad entry fails deep
in the client (botocore's ``ParamValidationError``, a header-injection guard) or on the
server, and the answer can even look like an authentication failure (a space in a key
breaks the request signature). GCS keeps metadata in the JSON resource and takes any
non-empty key.

Each service also caps the total size (keys plus values, UTF-8 bytes): S3 2 KB, GCS and
Azure 8 KiB. Past that the request is refused, or its echo overflows the client's header
limit, which reads like a broken connection.
"""

from __future__ import annotations

import re

__all__ = ["check_metadata", "check_metadata_size"]

# RFC 9110 §5.6.2 token characters
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")

_KEY_RULES = {
    "token": (_TOKEN, "letters, digits and !#$%&'*+-.^_`|~ (an HTTP header name)"),
    "identifier": (_IDENTIFIER, "letters, digits and '_', not starting with a digit"),
}


def check_metadata(
    where: str, metadata: dict[str, str], keys: str | None = None, ascii_values: bool = False
) -> None:
    """Raise ``ValueError`` naming the first entry the service would refuse.

    ``keys`` is ``'token'``, ``'identifier'`` or ``None`` (any non-empty key);
    ``ascii_values`` requires printable ASCII values (no control characters).
    """
    for key, value in metadata.items():
        if not key:
            raise ValueError(f"{where}: metadata keys must not be empty")
        if keys is not None:
            pattern, allowed = _KEY_RULES[keys]
            if not pattern.fullmatch(key):
                raise ValueError(f"{where}: invalid metadata key {key!r}: use {allowed}")
        if ascii_values and not _PRINTABLE_ASCII.fullmatch(value):
            raise ValueError(
                f"{where}: invalid value for metadata key {key!r}: this service stores "
                f"metadata in HTTP headers, so values must be printable ASCII "
                f"(encode other text first, e.g. urllib.parse.quote)"
            )


def check_metadata_size(where: str, metadata: dict[str, str], limit: int) -> None:
    """Raise ``ValueError`` when keys plus values exceed ``limit`` UTF-8 bytes."""
    size = sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items())
    if size > limit:
        raise ValueError(
            f"{where}: metadata too large: {size} bytes of keys and values, "
            f"this service keeps at most {limit}"
        )
