"""The one place where paths are normalised and traversal is refused.

Three entry points, from the most to the least trusting caller:

* :func:`normalize` joins the parts a Python caller gives ``node()``; it drops empty
  segments (so ``//`` and leading/trailing ``/`` collapse, making every path relative to
  its mount) and refuses ``..`` in any spelling, NUL bytes and control characters.
* :func:`from_url_path` takes the raw path of an HTTP request and additionally refuses
  percent-encoded separators, dots and NULs, backslashes, Windows drive letters and
  device names, and overlong names, before handing the result to :func:`normalize`.
* :func:`contain` is the last line for local disks: it resolves symlinks and refuses
  any result outside the mount root.

All refusals raise :class:`~genro_storage.errors.PathTraversalError` (a ``ValueError``).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote

from .errors import PathTraversalError

__all__ = [
    "canonical",
    "contain",
    "from_url_path",
    "is_root",
    "join",
    "normalize",
    "resolve_within",
    "split_mount",
]

TRAVERSAL_MESSAGE = "Parent directory traversal (..) is not supported"
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096
MAX_DEPTH = 512

# Windows reserved device names (with or without an extension): CON, CON.txt, COM1...
_DEVICE_NAME = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_S_ISLNK = stat.S_ISLNK


def split_mount(spec: str) -> tuple[str, str | None]:
    """Split ``'mount:path'`` at the first colon; ``'mount'`` gives ``(mount, None)``."""
    if ":" in spec:
        mount, rest = spec.split(":", 1)
        return mount, rest
    return spec, None


def _check_segment(segment: str, original: str) -> None:
    if segment == ".." or ".." in segment.split("\\"):
        raise PathTraversalError(f"{TRAVERSAL_MESSAGE}: {original!r}")
    if "\x00" in segment:
        raise PathTraversalError(f"NUL byte in path: {original!r}")


def normalize(*parts: str) -> str:
    """Join ``parts`` with ``/`` into a clean mount-relative path ('' is the root).

    Empty segments are dropped; ``.`` segments are kept (0.4.2 compatible); ``..`` (also
    hidden between backslashes) and NUL bytes raise :class:`PathTraversalError`.
    """
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"path parts must be str, got {type(part).__name__}")
    joined = "/".join(parts)
    segments = [s for s in joined.split("/") if s]
    for segment in segments:
        _check_segment(segment, joined)
    path = "/".join(segments)
    if len(segments) > MAX_DEPTH or len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        # no filesystem takes it (PATH_MAX), and walking it would recurse without end
        raise PathTraversalError(
            f"path longer than {MAX_PATH_BYTES} bytes or {MAX_DEPTH} levels: {path[:80]!r}..."
        )
    return path


def canonical(path: str) -> str:
    """``path`` without empty and ``.`` segments: the spelling every backend agrees on.

    ``normalize`` keeps ``.`` segments (0.4.2 compatible); anything that decides whether a
    path is the mount root, or compares two paths, uses this form.
    """
    if (
        path
        and path[0] not in "/."
        and path[-1] != "/"
        and "//" not in path
        and "/./" not in path
        and not path.endswith("/.")
    ):
        return path  # no empty or "." segment: already canonical (the common case)
    return "/".join(s for s in path.split("/") if s not in ("", "."))


def is_root(path: str | None) -> bool:
    """Whether ``path`` names the mount root in any spelling (``''``, ``.``, ``./``, ``./.``)."""
    if path and path.strip("/."):
        return False  # a character other than '/' and '.' is in a segment that names something
    return not canonical(path or "")


def join(base: str, *parts: str) -> str:
    """POSIX-style append used by ``child()``: a part starting with ``/`` restarts the path."""
    current = base
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"path parts must be str, got {type(part).__name__}")
        if part.startswith("/"):
            current = part
        else:
            current = f"{current}/{part}" if current else part
    return normalize(current)


def from_url_path(raw: str) -> str:
    """Turn the (still percent-encoded) path of an HTTP request into a mount path.

    Refuses, rather than silently rewriting, anything a legitimate link never contains:
    encoded ``/``, ``\\``, ``.`` or NUL, backslashes, control characters, drive letters,
    Windows device names, ``..`` and names longer than the filesystem allows.
    """
    lowered = raw.lower()
    for encoded in ("%2f", "%5c", "%00", "%2e", "%25"):
        if encoded in lowered:
            raise PathTraversalError(f"encoded separator, dot or NUL in URL path: {raw!r}")
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise PathTraversalError(f"URL path is not valid UTF-8: {raw!r}") from None
    if "\\" in decoded:
        raise PathTraversalError(f"backslash in URL path: {raw!r}")
    if _CONTROL.search(decoded):
        raise PathTraversalError(f"control character in URL path: {raw!r}")
    if len(decoded.encode("utf-8")) > MAX_PATH_BYTES:
        raise PathTraversalError("URL path too long")
    for segment in decoded.split("/"):
        if not segment:
            continue
        if segment in (".", ".."):
            raise PathTraversalError(f"{TRAVERSAL_MESSAGE}: {raw!r}")
        if _DRIVE.match(segment) or _DEVICE_NAME.match(segment.rstrip(" .")):
            raise PathTraversalError(f"Windows drive or device name in URL path: {raw!r}")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise PathTraversalError(f"path segment longer than {MAX_SEGMENT_BYTES} bytes")
    return normalize(decoded)


def resolve_within(root_resolved: str, relative: str) -> tuple[str, os.stat_result | None]:
    """``root_resolved / relative`` with symlinks resolved, refused if it leaves the root.

    ``root_resolved`` must already be a real path (no symlinks). Returns the real path and,
    when it was found on the way, the ``lstat`` of the target (which is then not a
    symlink, so it equals its ``stat``); None when the target was resolved otherwise.

    The common case costs one ``lstat`` per segment of ``relative`` and nothing else: when
    no segment is a symlink (and every one exists), the real path is the joined path; a
    missing segment reached through real directories ends the walk there (nothing below it
    exists, so nothing below can be a link). A symlink, an unreadable segment, or an
    unusual ``relative`` (``.``, ``..``, empty segments, absolute) takes
    ``os.path.realpath`` and the prefix check, as before.
    """
    if os.name == "posix" and relative and relative[0] != "/":
        base = "" if root_resolved == "/" else root_resolved
        current = base
        found: os.stat_result | None = None
        segments = relative.split("/")
        for index, segment in enumerate(segments):
            if segment in ("", ".", ".."):
                break
            current = f"{current}/{segment}"
            try:
                found = os.lstat(current)
            except FileNotFoundError:
                # every segment before is a real directory: past a missing one nothing
                # exists and no link can lead anywhere, so the path is the joined one
                # (what realpath gives), unless a later segment is unusual
                rest = segments[index + 1 :]
                if any(part in ("", ".", "..") for part in rest):
                    break
                return "/".join([current, *rest]), None
            except (OSError, ValueError):
                break
            if _S_ISLNK(found.st_mode):
                break
        else:
            return current, found
    if not relative:
        return root_resolved, None
    resolved = os.path.realpath(os.path.join(root_resolved, relative))
    if resolved != root_resolved and not resolved.startswith(os.path.join(root_resolved, "")):
        raise PathTraversalError(f"Path escapes base directory: {relative!r}")
    return resolved, None


def contain(root: Path, relative: str, root_is_resolved: bool = False) -> Path:
    """``root / relative`` with symlinks resolved, refused if it leaves ``root``.

    ``root_is_resolved`` skips resolving ``root`` again when the caller just did.
    """
    # String operations, not pathlib: this runs on every local file access (a third of the
    # cost of serving a small file when it used Path.parents).
    root_resolved = os.fspath(root) if root_is_resolved else os.path.realpath(root)
    return Path(resolve_within(root_resolved, relative)[0])
