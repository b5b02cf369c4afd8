"""Request header access shared by the serve core.

The core reads request headers through one case-insensitive mapping built here, from a
plain mapping, a WSGI environ or an ASGI scope. A field value that carries CR, LF or NUL is
refused with :class:`_HeaderError`: RFC 9110 §5.5 calls such values "invalid and
dangerous" and lets a recipient reject the message, which the core answers with 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._text import has_crlf_nul

__all__ = ["RequestHeaders", "headers_from_environ", "headers_from_scope", "normalize_headers"]

# WSGI puts these two request headers in the environ without the HTTP_ prefix (PEP 3333).
_UNPREFIXED = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


class _HeaderError(ValueError):
    """A request header field value cannot be processed safely (mapped to 400)."""


class RequestHeaders(dict[str, str]):
    """A ``dict`` of request headers whose names are lower-case already.

    What :func:`headers_from_environ`, :func:`headers_from_scope` and
    :func:`normalize_headers` return; :func:`normalize_headers` gives it back as it is
    instead of building it again (the core normalises whatever mapping it is given).
    """


def _add(result: dict[str, str], name: str, value: str) -> None:
    # RFC 9110 §5.3: repeated field lines combine into one comma-separated list value.
    key = name.lower()
    result[key] = f"{result[key]}, {value}" if key in result else value


def normalize_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` as a dict with lower-case names (duplicates are combined).

    A :class:`RequestHeaders` (already normalised) is returned as it is.
    """
    if type(headers) is RequestHeaders:
        return headers
    result = RequestHeaders()
    for name, value in headers.items():
        _add(result, name, value)
    return result


def headers_from_environ(environ: Mapping[str, Any]) -> dict[str, str]:
    """Return the request headers of a WSGI ``environ`` with lower-case names.

    ``HTTP_IF_NONE_MATCH`` becomes ``if-none-match``; ``CONTENT_TYPE`` and
    ``CONTENT_LENGTH`` are included; other environ keys (CGI and ``wsgi.*``) are not.
    """
    result = RequestHeaders()
    for key, value in environ.items():
        if key[:5] == "HTTP_":
            if isinstance(value, str):
                _add(result, key[5:].replace("_", "-"), value)
        elif key in _UNPREFIXED and isinstance(value, str):
            _add(result, _UNPREFIXED[key], value)
    return result


def headers_from_scope(scope: Mapping[str, Any]) -> dict[str, str]:
    """Return the request headers of an ASGI HTTP ``scope`` with lower-case names.

    The scope's ``headers`` are ``(name, value)`` byte pairs; both are decoded as latin-1,
    which maps every byte to one character, so nothing is lost.
    """
    pairs: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
    result = RequestHeaders()
    for name, value in pairs:
        _add(result, name.decode("latin-1"), value.decode("latin-1"))
    return result


def field(headers: Mapping[str, str], name: str) -> str | None:
    """Return the value of field ``name`` (lower-case) or None; refuse CR, LF and NUL."""
    value = headers.get(name)
    if value is not None and has_crlf_nul(value):
        raise _HeaderError(f"{name} field value contains CR, LF or NUL")
    return value
