"""A shared, bounded corpus of hostile paths, for the library and the HTTP fuzz suites.

Two views of the same attacks:

* :data:`PATHS`: decoded path strings, as a user (or a form field) hands them to
  ``manager.node("m:" + path)`` or to ``node.child(path)``;
* :data:`URL_PATHS`: request-target suffixes, still percent-encoded, as an attacker sends
  them after a served prefix (``GET /files/<suffix>``). Each decoded path appears there
  quoted too (:func:`url_forms`), so every spelling reaches the HTTP surfaces.

:func:`hostile_path` / :func:`hostile_url_path` are hypothesis strategies built from the
same pieces, for the property tests (keep their ``max_examples`` bounded).

Every entry aims at ``SECRET_NAME`` one or two levels above the mount root, or at the mount
root itself, so a test that plants canary files there can assert nothing leaked.
"""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import strategies as st

__all__ = [
    "PATHS",
    "SECRET_NAME",
    "URL_PATHS",
    "hostile_path",
    "hostile_url_path",
    "url_forms",
]

SECRET_NAME = "secret.txt"
"""The canary's name: tests plant it outside the mount (and in private routes)."""

_S = SECRET_NAME

DOTS = [
    ".", "..", "./", "../", "./.", "././", "a/..", "a/../..", "...", "....",
    f"../{_S}", f"../../{_S}", f"./../{_S}", f"a/./../../{_S}", f"a/b/../../../{_S}",
    f".../{_S}", f"..;/{_S}", f". /{_S}", f".. /{_S}", f" ../{_S}", f"../ {_S}",
]  # fmt: skip

SEPARATORS = [
    "/", "//", "///", "/./", "//./", f"//{_S}", f"/../{_S}", f"a//..//..//{_S}",
    "/etc/passwd", "//etc/passwd", "\\", f"..\\{_S}", f"a\\..\\..\\{_S}",
    f"..\\/{_S}", f"../\\{_S}", "C:\\Windows\\win.ini", "C:/Windows/win.ini", "c:",
    "\\\\server\\share", "//server/share", "~", f"~/{_S}", "~root",
]  # fmt: skip

CONTROL = ["\x00", f"a\x00/../{_S}", f"{_S}\x00.png", "a\nb", "a\rb", "a\tb", "\x7f", "\x1b[0m"]

LONG = [
    "a" * 255,  # the longest name most filesystems take
    "a" * 256,  # one byte over NAME_MAX
    "é" * 128,  # 256 bytes in UTF-8
    "a" * 1000,
    "/".join(["b" * 200] * 25),  # over PATH_MAX (4096) with valid segments
    "x/" * 2100,  # over PATH_MAX in short segments
    "../" * 50 + _S,  # deep climb
]

MOUNT_TRICKS = [
    f"other:{_S}", f"m:../{_S}", f":{_S}", "m::x", f"m:/../{_S}", "C:", "CON", "con.txt",
    "aux.txt", "NUL", "COM1.txt", "lpt1", "prn.", "CON ", f"@m/{_S}", f"{_S}:stream",
    f"{_S}::$DATA",
]  # fmt: skip

UNICODE = [
    f"\u2024\u2024/{_S}",  # one dot leader, twice
    f"\uff0e\uff0e/{_S}",  # fullwidth full stop
    f"..\u2215{_S}",  # division slash
    f"..\uff0f{_S}",  # fullwidth solidus
    f"..\u29f5{_S}",  # reverse solidus operator
    f"\u202e{_S}",  # right-to-left override
    "\udcff",  # a lone surrogate (undecodable byte under surrogateescape)
    f"e\u0301/../../{_S}",  # combining accent
]

PATHS: list[str] = [*DOTS, *SEPARATORS, *CONTROL, *LONG, *MOUNT_TRICKS, *UNICODE]
"""Every decoded hostile path, for ``node("m:" + path)``."""

ENCODED = [
    f"%2e%2e/{_S}", f"%2E%2E/{_S}", f"%2e%2e%2f{_S}", f"..%2f{_S}", f"..%2F{_S}",
    f"..%5c{_S}", f"..%5C{_S}", f"%2e./{_S}", f".%2e/{_S}", "%2e", "%2e%2e", "%2f", "%2F",
    f"%2f%2e%2e%2f{_S}", f"a%2f..%2f..%2f{_S}", "%2fetc%2fpasswd",
    f"%252e%252e/{_S}", f"%252e%252e%252f{_S}", f"..%252f{_S}", f"%25%32%65%25%32%65/{_S}",
    f"%c0%ae%c0%ae/{_S}", f"..%c0%af{_S}", f"%e0%80%ae%e0%80%ae/{_S}", f"..%c1%9c{_S}",
    f"%u002e%u002e/{_S}", f"{_S}%00.png", "%00", f"..%00/{_S}", "%ff%fe", "%", "%zz", "%2",
    f"%e2%80%a4%e2%80%a4/{_S}", f"..%ef%bc%8f{_S}", "a%0d%0aSet-Cookie:x=1", "%7f",
    f"..;/{_S}", f"%3b/../{_S}", f"..%3b/{_S}", f"%23/../{_S}", f"%3f/../{_S}",
]  # fmt: skip
"""Percent-encoded spellings: encoded dots and separators, double encoding, overlong UTF-8,
``%u`` escapes, NUL, bad escapes, CRLF injection, ``;``/``#``/``?`` tricks."""


def url_forms(path: str) -> list[str]:
    """The ways ``path`` (decoded) travels in a request target: as written when it is
    sendable as is (printable ASCII, no space, ``%``, ``?`` or ``#``), and percent-quoted
    (``/`` kept)."""
    forms = []
    if path.isascii() and path.isprintable() and not any(c in path for c in " %?#"):
        forms.append(path)
    quoted = quote(path, safe="/", errors="surrogateescape")
    if quoted not in forms:
        forms.append(quoted)
    return forms


URL_PATHS: list[str] = list(dict.fromkeys([*ENCODED, *(f for p in PATHS for f in url_forms(p))]))
"""Every hostile request-target suffix (after ``/prefix/``), percent-encoded as sent."""

_PIECES = [
    ".", "..", "/", "//", "\\", "%2e", "%2E", "%2f", "%2F", "%5c", "%00", "%25", "%252e",
    "%c0%ae", "%c0%af", "a", "dir", "privdir", "public", _S, ":", ";", "~", " ", "%20",
    "CON", "%ff", "é", "%c3%a9",
]  # fmt: skip


def hostile_url_path() -> st.SearchStrategy[str]:
    """Request-target suffixes glued from hostile pieces (encoded dots, separators...)."""
    return st.lists(st.sampled_from(_PIECES), min_size=1, max_size=10).map("".join)


def hostile_path() -> st.SearchStrategy[str]:
    """Decoded paths glued from hostile pieces (``..``, separators, NUL, long names)."""
    decoded = [p for p in _PIECES if "%" not in p] + ["\x00", "a" * 255, "b" * 256]
    return st.lists(st.sampled_from(decoded), min_size=1, max_size=10).map("".join)
