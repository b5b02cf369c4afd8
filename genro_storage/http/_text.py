"""Character-level rules shared by the header parsers (RFC 9110 §5.5, §5.6)."""

from __future__ import annotations

OWS = " \t"
"""Optional whitespace (§5.6.3): spaces and horizontal tabs."""

# §5.6.2: token = 1*tchar.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def is_token(value: str) -> bool:
    """Tell whether ``value`` is a non-empty RFC 9110 token."""
    return bool(value) and all(c in _TCHAR for c in value)


def is_digits(value: str) -> bool:
    """Tell whether ``value`` is ``1*DIGIT`` in ASCII (``str.isdigit`` alone accepts ``²``)."""
    return value.isascii() and value.isdigit()


def has_crlf_nul(value: str) -> bool:
    """Tell whether ``value`` holds CR, LF or NUL, which can never be sent in a field (§5.5)."""
    return "\r" in value or "\n" in value or "\x00" in value
