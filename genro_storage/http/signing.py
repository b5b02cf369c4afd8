"""Signed, expiring URLs for private mounts.

A link such as ``/files/reports/q3.pdf?expires=1767225600&signature=...`` lets whoever
holds it download that one path until the expiry time, without a session. The signature is
an HMAC-SHA256 over a versioned message made of the canonical path and the expiry,
encoded as unpadded URL-safe base64.

Canonical path: percent-decoded, runs of ``/`` collapsed, exactly one leading ``/`` and no
trailing one; ``"a//b/"``, ``"/a/b"`` and ``"/a%2Fb"`` sign alike, so the application may
sign the path as it builds it and verify the one the server decoded. Dot segments are not
resolved: containment is ``paths.py``'s job, after verification.

Key rotation: :func:`verify` accepts a list of secrets; sign with the newest, verify with
the newest and the previous ones until old links have expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from typing import Union
from urllib.parse import parse_qs, unquote

from ._text import is_digits

__all__ = ["EXPIRES_PARAM", "SIGNATURE_PARAM", "canonical_path", "sign_path", "verify"]

EXPIRES_PARAM = "expires"
SIGNATURE_PARAM = "signature"

Secret = Union[str, bytes]
_VERSION = b"genro-storage-signed-url-v1"
_SLASHES = re.compile("/+")  # a single character class: no backtracking
_MAX_EXPIRES_DIGITS = 12  # up to year ~33658; longer values are refused, not converted


def canonical_path(path: str) -> str:
    """Return the form of ``path`` that is signed (see the module docstring)."""
    return "/" + _SLASHES.sub("/", unquote(path)).strip("/")


def _key(secret: Secret) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if not key:
        raise ValueError("the signing secret must not be empty")
    return key


def _signature(path: str, expires_at: int, secret: Secret) -> str:
    message = b"\n".join(
        (_VERSION, canonical_path(path).encode("utf-8", "surrogateescape"), b"%d" % expires_at)
    )
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_path(path: str, secret: Secret, expires_at: int) -> str:
    """Return the query string ``expires=<expires_at>&signature=<sig>`` for ``path``.

    Args:
        path: the URL path to allow (any of its equivalent spellings, see above).
        secret: the signing key, at least 32 random bytes recommended.
        expires_at: POSIX time (seconds) after which the link stops working.

    Raises:
        TypeError: ``expires_at`` is not an int.
        ValueError: ``expires_at`` is negative or too large, or ``secret`` is empty.
    """
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise TypeError(f"expires_at must be an int (POSIX seconds), got {expires_at!r}")
    if not 0 <= expires_at < 10**_MAX_EXPIRES_DIGITS:
        raise ValueError(f"expires_at out of range: {expires_at}")
    signature = _signature(path, expires_at, secret)
    return f"{EXPIRES_PARAM}={expires_at}&{SIGNATURE_PARAM}={signature}"


def _single(query: Mapping[str, object], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) == 1 else None  # a repeated parameter is refused
    return value if isinstance(value, str) else None


def verify(
    path: str,
    query: Mapping[str, object] | str,
    secret: Secret | Sequence[Secret],
    now: float | None = None,
) -> bool:
    """Tell whether ``query`` carries a valid, unexpired signature for ``path``.

    Args:
        path: the requested URL path.
        query: the raw query string, or a mapping such as ``request.GET`` or the result
            of ``parse_qs`` (single values or one-element lists).
        secret: the key, or a sequence of keys (any one may match: key rotation).
        now: the current POSIX time; defaults to ``time.time()``.

    Returns:
        False for a missing, repeated, malformed or tampered parameter, a path other than
        the signed one, or an expiry in the past; True otherwise. The signature is
        compared in constant time.
    """
    secrets_ = [secret] if isinstance(secret, (str, bytes)) else list(secret)
    if not secrets_:
        raise ValueError("verify() needs at least one secret")
    params: Mapping[str, object] = (
        parse_qs(query, keep_blank_values=True) if isinstance(query, str) else query
    )
    expires_text = _single(params, EXPIRES_PARAM)
    signature = _single(params, SIGNATURE_PARAM)
    if expires_text is None or signature is None:
        return False
    if not is_digits(expires_text):
        return False
    if len(expires_text) > _MAX_EXPIRES_DIGITS:
        return False
    expires_at = int(expires_text)
    if expires_text != str(expires_at):
        return False  # one spelling per expiry: "0042" is not what was signed
    if (time.time() if now is None else now) > expires_at:
        return False
    given = signature.encode("ascii", "replace")
    matched = False
    for key in secrets_:  # every key is tried, so timing does not reveal which one matched
        expected = _signature(path, expires_at, key).encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    return matched
