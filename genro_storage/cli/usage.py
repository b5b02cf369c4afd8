"""Commands that summarise a tree: ``du`` (size and file count) and ``tree`` (the layout)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._resolve import Session, Target
from ._sizes import human, show_size
from .files import print_json, stat_or_fail

if TYPE_CHECKING:
    from ..backends.base import EntryInfo

__all__ = ["register"]

Add = Callable[..., argparse.ArgumentParser]


def _human_flag(p: argparse.ArgumentParser, what: str) -> None:
    """``-h`` is ``--human-readable`` here (as in ``du -h``); help is ``--help``."""
    p.add_argument("--help", action="help", help="show this help message and exit")
    p.add_argument(
        "-h", "--human-readable", dest="human", action="store_true", help=f"{what} as 1.5K, 12M"
    )


def register(add: Add) -> None:
    """Add this module's sub-commands to the parser."""
    p = add(
        "du",
        "total size and number of files below each target (no target: every mount)",
        add_help=False,
    )
    p.add_argument("targets", nargs="*", metavar="TARGET")
    _human_flag(p, "sizes")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_du)

    p = add("tree", "the files and folders below a target, as a tree", add_help=False)
    p.add_argument("target", metavar="TARGET")
    _human_flag(p, "sizes (implies -s)")
    p.add_argument("-s", "--size", action="store_true", help="show each file's size")
    p.add_argument(
        "-L", "--level", type=int, metavar="N", help="descend at most N levels (1: the top only)"
    )
    p.add_argument("-d", "--dirs-only", action="store_true", help="folders only")
    p.set_defaults(run=cmd_tree)


def _entries(session: Session, target: Target) -> Iterator[EntryInfo]:
    """Every entry below ``target`` (one recursive listing), or the file itself."""
    entry = stat_or_fail(session, target)
    if not entry.is_dir:
        yield entry
        return
    node = target.node
    yield from session.manager.get_backend(node.mount_name or "").walk_files(node.path or "")


# ---------------------------------------------------------------------- du
def cmd_du(session: Session, args: argparse.Namespace) -> int:
    targets = args.targets or [f"{name}:" for name in session.mount_names()]
    rows: list[dict[str, Any]] = []
    for arg in targets:
        target = session.target(arg)
        size = files = 0
        for entry in _entries(session, target):
            if not entry.is_dir:
                size += entry.size or 0
                files += 1
        rows.append({"path": target.shown, "size": size, "files": files})
    if args.json:
        print_json(rows)
        return 0
    shown = list(rows)
    if len(rows) > 1:
        total = {"path": "total", "size": sum(r["size"] for r in rows)}
        shown.append({**total, "files": sum(r["files"] for r in rows)})
    columns = [show_size(r["size"], args.human) for r in shown]
    width = max([len(c) for c in columns] + [4])
    for row, column in zip(shown, columns):
        print(f"{column:>{width}}  {row['files']:>8} files  {row['path']}")
    return 0


# ---------------------------------------------------------------------- tree
@dataclass
class _Dir:
    folders: dict[str, _Dir] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    def folder(self, parts: list[str]) -> _Dir:
        here = self
        for part in parts:
            here = here.folders.setdefault(part, _Dir())
        return here


def cmd_tree(session: Session, args: argparse.Namespace) -> int:
    if args.level is not None and args.level < 1:
        raise ValueError("--level must be at least 1")
    target = session.target(args.target)
    base = target.node.path or ""
    root = _Dir()
    for entry in _entries(session, target):
        rel = entry.path[len(base) :].lstrip("/") if base else entry.path
        if not rel:  # the target is a file
            rel = target.node.basename
        parts = rel.split("/")
        if entry.is_dir:
            root.folder(parts)
        else:
            root.folder(parts[:-1]).files[parts[-1]] = entry.size or 0
    sizes = args.size or args.human
    counts = [0, 0]  # folders, files

    def show(size: int) -> str:
        return f"[{human(size) if args.human else size:>{6 if args.human else 10}}]  "

    def draw(folder: _Dir, prefix: str, depth: int) -> None:
        names: list[tuple[str, _Dir | int]] = [(n, d) for n, d in folder.folders.items()]
        if not args.dirs_only:
            names += [(n, s) for n, s in folder.files.items()]
        names.sort(key=lambda item: item[0])
        for index, (name, value) in enumerate(names):
            last = index == len(names) - 1
            branch, extend = ("└── ", "    ") if last else ("├── ", "│   ")
            if isinstance(value, _Dir):
                counts[0] += 1
                print(f"{prefix}{branch}{name}")
                if args.level is None or depth < args.level:
                    draw(value, prefix + extend, depth + 1)
            else:
                counts[1] += 1
                print(f"{prefix}{branch}{show(value) if sizes else ''}{name}")

    print(target.shown)
    draw(root, "", 1)
    folders = f"{counts[0]} director{'y' if counts[0] == 1 else 'ies'}"
    if args.dirs_only:
        print(f"\n{folders}")
    else:
        print(f"\n{folders}, {counts[1]} file{'' if counts[1] == 1 else 's'}")
    return 0
