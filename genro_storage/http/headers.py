"""Request header access shared by the serve core.

The core reads request headers through one case-insensitive mapping built here, from a
plain mapping, a WSGI environ or an ASGI scope. A field value that carries CR, LF or NUL is
refused with :class:`_HeaderError`: RFC 9110 §5.5 calls such values "invalid and
dangerous" and lets a recipient reject the message, which the core answers with 400.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from ._text import has_crlf_nul

__all__ = [
    "EnvironHeaders",
    "RequestHeaders",
    "headers_from_environ",
    "headers_from_scope",
    "normalize_headers",
]

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


def normalize_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Return ``headers`` as a dict with lower-case names (duplicates are combined).

    A :class:`RequestHeaders` or :class:`EnvironHeaders` (already normalised) is returned
    as it is.
    """
    if type(headers) is RequestHeaders or type(headers) is EnvironHeaders:
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


class EnvironHeaders(Mapping[str, str]):
    """The request headers of a WSGI ``environ``, read from it only when asked for.

    The same mapping as :func:`headers_from_environ` for an environ whose keys follow CGI
    (``HTTP_`` + the upper-cased name, ``-`` as ``_``), which is what WSGI servers build:
    ``get("if-none-match")`` is one environ lookup instead of a pass over every key.
    Iterating, ``len()`` and ``[]`` build the whole mapping once.
    """

    __slots__ = ("_all", "_environ")

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ
        self._all: dict[str, str] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        key = _environ_key(name)
        if key is None:  # content-type/-length, or a name no header has: the full mapping
            return self._mapping().get(name, default)
        value = self._environ.get(key)
        return value if isinstance(value, str) else default

    @property
    def environ(self) -> Mapping[str, Any]:
        """The WSGI environ the headers are read from."""
        return self._environ

    def _mapping(self) -> dict[str, str]:
        if self._all is None:
            self._all = headers_from_environ(self._environ)
        return self._all

    def __getitem__(self, name: str) -> str:
        return self._mapping()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __repr__(self) -> str:
        return f"EnvironHeaders({self._mapping()!r})"


@lru_cache(maxsize=256)
def _environ_key(name: str) -> str | None:
    """``HTTP_IF_NONE_MATCH`` for ``if-none-match``; None where no such lookup is exact."""
    if name in _UNPREFIXED.values() or not name.isascii() or name != name.lower() or "_" in name:
        return None
    return "HTTP_" + name.upper().replace("-", "_")


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
