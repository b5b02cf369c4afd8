"""``Content-Disposition`` with a safe file name (RFC 6266, RFC 8187/5987)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

__all__ = ["ascii_filename", "content_disposition"]

_KINDS = frozenset({"attachment", "inline"})
# RFC 8187 §3.2.1 attr-char beyond ALPHA / DIGIT (which quote() always keeps).
_ATTR_CHAR_EXTRA = "!#$&+-.^_`|~"
# Characters never kept in the quoted ASCII name: quote and backslash would end or escape
# the quoted-string; ";" and "," confuse naive parsers; "/" is a path, not a name; "%"
# followed by hex is percent-decoded by some user agents (RFC 6266 Appendix D).
_UNSAFE_ASCII = frozenset('"\\;,/%')
_FALLBACK_NAME = "download"


def _clean(name: str) -> str:
    """Drop control characters; replace path separators and lone surrogates by ``_``."""
    chars = []
    for c in name:
        category = unicodedata.category(c)
        # Controls (C0, DEL, C1) and line/paragraph separators are never part of a real
        # file name, and CR/LF would split the header.
        if category in ("Cc", "Zl", "Zp"):
            continue
        # Surrogates come from undecodable bytes (os.fsdecode) and cannot be UTF-8 encoded.
        chars.append("_" if category == "Cs" or c in "/\\" else c)
    result = "".join(chars).strip()
    return result if result.strip(".") else ""


def ascii_filename(name: str) -> str:
    """Return a plain ASCII version of ``name`` safe inside ``filename="..."``.

    Accents are dropped (``é`` -> ``e``), other non-ASCII characters and unsafe ASCII
    become ``_``, and a name left empty or made of dots only becomes ``download``.
    """
    decomposed = unicodedata.normalize("NFKD", _clean(name))
    chars = []
    for c in decomposed:
        if unicodedata.combining(c):
            continue
        chars.append("_" if not c.isascii() or c in _UNSAFE_ASCII else c)
    result = "".join(chars).strip()
    return result if result.strip(".") else _FALLBACK_NAME


def content_disposition(kind: str, filename: str) -> str:
    """Build a ``Content-Disposition`` value offering ``filename``.

    Always carries an ASCII ``filename="..."``; adds ``filename*=UTF-8''...``
    (percent-encoded, RFC 8187) when the name is not already plain ASCII-safe, so
    modern browsers get the exact name and old ones a readable one (RFC 6266 §4.3).
    The result is ASCII with no CR, LF or unescaped quote: no header injection.

    Raises:
        ValueError: ``kind`` is neither ``"attachment"`` nor ``"inline"``.
    """
    if kind not in _KINDS:
        raise ValueError(f"Content-Disposition kind must be attachment or inline: {kind!r}")
    clean = _clean(filename)
    fallback = ascii_filename(clean)
    value = f'{kind}; filename="{fallback}"'
    if clean and fallback != clean:
        encoded = quote(clean, safe=_ATTR_CHAR_EXTRA, encoding="utf-8")
        value += f"; filename*=UTF-8''{encoded}"
    return value
