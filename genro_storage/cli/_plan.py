"""The plan of a copy or sync: which files to copy, skip or delete, decided from one
listing of each side, without changing anything (``--dry-run``, ``sync --delete``)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ..backends.base import EntryInfo
from ..node import StorageNode

__all__ = ["Step", "plan"]


@dataclass(frozen=True)
class Step:
    """One decision of a copy: ``copy``, ``skip`` (with the reason) or ``delete``."""

    action: str
    name: str
    reason: str = ""


def _kept(rel: str, include: list[str], exclude: list[str]) -> str:
    """'' to keep the file, else why the filters drop it (the copy engine's wording)."""
    if include and not any(fnmatch.fnmatch(rel, p) for p in include):
        return "not matching include patterns"
    for pattern in exclude:
        if fnmatch.fnmatch(rel, pattern):
            return f"matching exclude pattern '{pattern}'"
    return ""


def _skip_reason(
    src: StorageNode,
    src_entry: EntryInfo,
    dest: StorageNode,
    dest_entry: EntryInfo | None,
    skip: str,
) -> str:
    if dest_entry is None or dest_entry.is_dir or skip == "never":
        return ""
    if skip == "exists":
        return "destination exists"
    if src_entry.size != dest_entry.size:
        return ""
    if skip == "size":
        return f"same size ({src_entry.size} bytes)"
    digest = src_entry.md5 or src.md5hash
    if digest == (dest_entry.md5 or dest.md5hash):
        return f"same content (MD5: {digest[:8]}...)"
    return ""


def _tree(node: StorageNode) -> dict[str, EntryInfo]:
    """Every entry below ``node`` by relative path ({} when it is missing or a file)."""
    if not node.isdir:
        return {}
    base = node.path or ""
    return {
        ((n.path or "")[len(base) :].lstrip("/") if base else n.path or ""): e
        for n, e in node.walk()
    }


def plan(
    src: StorageNode,
    dest: StorageNode,
    *,
    include: list[str],
    exclude: list[str],
    skip: str,
    delete: bool = False,
    shown: str = "",
) -> list[Step]:
    """What copying ``src`` onto ``dest`` would do, without changing anything."""
    src_entry = src.stat()
    if not src_entry.is_dir:
        target = dest.child(src.basename) if dest.isdir else dest
        try:
            dest_entry: EntryInfo | None = target.stat()
        except FileNotFoundError:
            dest_entry = None
        reason = _skip_reason(src, src_entry, target, dest_entry, skip)
        return [Step("skip" if reason else "copy", shown or src.basename, reason)]
    theirs = _tree(dest)
    steps: list[Step] = []
    mine = _tree(src)
    for rel, entry in sorted(mine.items()):
        if entry.is_dir:
            continue
        reason = _kept(rel, include, exclude) or _skip_reason(
            src.child(rel), entry, dest.child(rel), theirs.get(rel), skip
        )
        steps.append(Step("skip" if reason else "copy", rel, reason))
    if delete:
        steps.extend(_deletions(mine, theirs, include, exclude))
    return steps


def _deletions(
    mine: dict[str, EntryInfo], theirs: dict[str, EntryInfo], include: list[str], exclude: list[str]
) -> list[Step]:
    """Destination entries the source lacks; filtered-out files are left alone."""
    files = [
        r
        for r, e in theirs.items()
        if not e.is_dir and r not in mine and not _kept(r, include, exclude)
    ]
    gone = set(files)
    steps = [Step("delete", rel) for rel in sorted(files)]
    for rel in sorted((r for r, e in theirs.items() if e.is_dir and r not in mine), reverse=True):
        inside = [r for r, e in theirs.items() if r.startswith(rel + "/") and not e.is_dir]
        if all(r in gone for r in inside):
            steps.append(Step("delete", rel + "/"))
            gone.add(rel)
    return steps
