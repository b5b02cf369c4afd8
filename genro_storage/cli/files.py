"""Commands that look at or change single nodes: mounts, ls, stat, cat, mkdir, rm, mv, hash."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..errors import MountRootError, StorageNotFoundError
from ..paths import is_root
from ._resolve import Session, Target
from ._sizes import parse_rate, show_size

if TYPE_CHECKING:
    from ..backends.base import EntryInfo
    from ..node import StorageNode

__all__ = ["register"]

Add = Callable[..., argparse.ArgumentParser]


def register(add: Add) -> None:
    """Add this module's sub-commands to the parser."""
    p = add("mounts", "list the configured mounts")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_mounts)

    p = add("ls", "list a directory (or show a file)", add_help=False)
    p.add_argument("targets", nargs="*", metavar="TARGET")
    p.add_argument("--help", action="help", help="show this help message and exit")
    p.add_argument("-l", dest="long", action="store_true", help="long format: type, size, mtime")
    p.add_argument(
        "-h",
        "--human-readable",
        dest="human",
        action="store_true",
        help="with -l: sizes as 1.5K, 12M",
    )
    p.add_argument("-R", dest="recursive", action="store_true", help="list sub-directories too")
    p.add_argument("--json", action="store_true", help="JSON output (a list of entries)")
    p.set_defaults(run=cmd_ls)

    p = add("stat", "size, modification time, type, ETag of files and directories")
    p.add_argument("targets", nargs="+", metavar="TARGET")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_stat)

    p = add("cat", "write file contents to stdout")
    p.add_argument("targets", nargs="+", metavar="TARGET")
    p.add_argument(
        "--bwlimit", type=parse_rate, metavar="RATE", help="at most RATE bytes per second (10M)"
    )
    p.set_defaults(run=cmd_cat)

    p = add("mkdir", "create directories")
    p.add_argument("targets", nargs="+", metavar="TARGET")
    p.add_argument(
        "-p", dest="parents", action="store_true", help="create parents, no error if it exists"
    )
    p.set_defaults(run=cmd_mkdir)

    p = add("rm", "remove files (and directories with -r)")
    p.add_argument("targets", nargs="+", metavar="TARGET")
    p.add_argument("-r", "-R", dest="recursive", action="store_true", help="remove directories")
    p.add_argument("-f", dest="force", action="store_true", help="ignore missing targets")
    p.set_defaults(run=cmd_rm)

    p = add("mv", "move a file or directory (across mounts too)")
    p.add_argument("source", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(run=cmd_mv)

    p = add(
        "cleanup",
        "remove temp files and incomplete uploads left by interrupted writes (kill -9...)",
    )
    p.add_argument("targets", nargs="+", metavar="MOUNT", help="a mount (MOUNT:) or a folder")
    p.add_argument(
        "--older-than",
        type=parse_age,
        default=3600.0,
        metavar="AGE",
        help="only what is older than AGE (seconds, or 30m, 12h, 7d; default 1h)",
    )
    p.add_argument("--dry-run", "-n", action="store_true", help="list, remove nothing")
    p.set_defaults(run=cmd_cleanup)

    p = add("hash", "MD5 of files (the stored ETag when the backend has one)")
    p.add_argument("targets", nargs="+", metavar="TARGET")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_hash)


# ---------------------------------------------------------------------- helpers
def stat_or_fail(session: Session, target: Target) -> EntryInfo:
    """The target's stat, or ``StorageNotFoundError`` naming it as the user typed it."""
    try:
        return target.node.stat()
    except FileNotFoundError as exc:
        if "does not exist" in str(exc):  # a missing bucket/container says so
            raise StorageNotFoundError(f"{target.shown}: {exc}") from None
        raise StorageNotFoundError(f"{target.shown}: no such file or directory") from None


def entry_dict(session: Session, node: StorageNode, entry: EntryInfo, name: str) -> dict[str, Any]:
    """The JSON form of one entry (``ls --json`` and ``stat --json``)."""
    return {
        "name": name,
        "path": session.show(node),
        "type": "dir" if entry.is_dir else "file",
        "size": entry.size,
        "mtime": entry.mtime,
        "etag": entry.etag,
        "md5": entry.md5,
    }


def fmt_time(mtime: float | None) -> str:
    if mtime is None:
        return "-" * 16
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# ---------------------------------------------------------------------- mounts
def cmd_mounts(session: Session, args: argparse.Namespace) -> int:
    rows = [session.describe_mount(n, capabilities=args.json) for n in session.mount_names()]
    if args.json:
        print_json(rows)
        return 0
    width = max([len(r["name"]) for r in rows] + [4])
    for row in rows:
        flags = f" [{row['permissions']}]" if row["permissions"] else ""
        print(f"{row['name']:<{width}}  {row['type']:<10} {row['location']}{flags}")
    return 0


# ---------------------------------------------------------------------- ls
def _listing(
    session: Session, target: Target, recursive: bool
) -> list[tuple[str, StorageNode, EntryInfo]]:
    entry = stat_or_fail(session, target)
    node = target.node
    if not entry.is_dir:
        return [(node.basename, node, entry)]
    base = node.path or ""
    if recursive:
        found = [(n, e) for n, e in node.walk()]
    else:
        backend = session.manager.get_backend(node.mount_name or "")
        found = [(node.child(e.name), e) for e in backend.list_detail(base)]
    rows = []
    for child, child_entry in found:
        rel = (child.path or "")[len(base) :].lstrip("/") if base else child.path or ""
        rows.append((rel, child, child_entry))
    return sorted(rows, key=lambda row: row[0])


def cmd_ls(session: Session, args: argparse.Namespace) -> int:
    if not args.targets:  # no target: the mounts, as a listing of the top level
        names = session.mount_names()
        if args.json:
            print_json([{"name": n, "path": f"{n}:", "type": "mount"} for n in names])
        else:
            for name in names:
                print(f"{name}:")
        return 0
    everything: list[dict[str, Any]] = []
    for index, arg in enumerate(args.targets):
        target = session.target(arg)
        rows = _listing(session, target, args.recursive)
        if args.json:
            everything.extend(entry_dict(session, n, e, rel) for rel, n, e in rows)
            continue
        if len(args.targets) > 1:
            print(f"{'' if index == 0 else chr(10)}{target.shown}:")
        for rel, _node, entry in rows:
            name = rel + ("/" if entry.is_dir else "")
            if args.long:
                kind = "d" if entry.is_dir else "-"
                size = "-" if entry.is_dir else show_size(entry.size, args.human)
                print(f"{kind} {size:>12}  {fmt_time(entry.mtime)}  {name}")
            else:
                print(name)
    if args.json:
        print_json(everything)
    return 0


# ---------------------------------------------------------------------- stat
def cmd_stat(session: Session, args: argparse.Namespace) -> int:
    results = []
    for arg in args.targets:
        target = session.target(arg)
        entry = stat_or_fail(session, target)
        info = entry_dict(session, target.node, entry, target.node.basename)
        info["mimetype"] = None if entry.is_dir else target.node.mimetype
        info["mount"] = target.node.mount_name
        results.append(info)
    if args.json:
        print_json(results[0] if len(results) == 1 else results)
        return 0
    for index, info in enumerate(results):
        if index:
            print()
        print(f"path:      {info['path']}")
        print(f"type:      {info['type']}")
        if info["type"] == "file":
            print(f"size:      {info['size']}")
            print(f"mimetype:  {info['mimetype']}")
        print(f"modified:  {fmt_time(info['mtime'])}")
        for key in ("etag", "md5"):
            if info[key]:
                print(f"{key + ':':<10} {info[key]}")
    return 0


# ---------------------------------------------------------------------- cat, hash
def _files(session: Session, args: Iterable[str]) -> Iterable[Target]:
    for arg in args:
        target = session.target(arg)
        if stat_or_fail(session, target).is_dir:
            raise IsADirectoryError(f"{target.shown}: is a directory")
        yield target


def cmd_cat(session: Session, args: argparse.Namespace) -> int:
    from ._bwlimit import RateLimit

    out = sys.stdout.buffer
    limit = RateLimit(args.bwlimit) if args.bwlimit else None
    for target in _files(session, args.targets):
        chunks = target.node.iter_bytes()
        for chunk in limit.chunks(chunks) if limit else chunks:
            out.write(chunk)
    out.flush()
    return 0


def cmd_hash(session: Session, args: argparse.Namespace) -> int:
    rows = [{"path": t.shown, "md5": t.node.md5hash} for t in _files(session, args.targets)]
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['md5']}  {row['path']}")
    return 0


# ---------------------------------------------------------------------- mkdir, rm, mv
def cmd_mkdir(session: Session, args: argparse.Namespace) -> int:
    for arg in args.targets:
        target = session.target(arg)
        if not args.parents and target.node.exists:
            raise FileExistsError(f"{target.shown}: already exists")
        target.node.mkdir(parents=args.parents, exist_ok=args.parents)
    return 0


def cmd_rm(session: Session, args: argparse.Namespace) -> int:
    for arg in args.targets:
        target = session.target(arg)
        if is_root(target.node.path):
            raise MountRootError(f"{target.shown}: refusing to remove the root of a mount")
        try:
            entry = target.node.stat()
        except FileNotFoundError:
            if args.force:
                continue
            raise StorageNotFoundError(f"{target.shown}: no such file or directory") from None
        if entry.is_dir and not args.recursive:
            raise IsADirectoryError(f"{target.shown}: is a directory (use rm -r)")
        target.node.delete()
    return 0


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> float:
    """``'90'``, ``'30m'``, ``'12h'``, ``'7d'`` -> seconds."""
    value = text.strip().lower()
    unit = _UNITS.get(value[-1:])
    number = value[:-1] if unit else value
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid age {text!r}: seconds or a number with s, m, h or d"
        ) from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f"invalid age {text!r}: negative")
    return seconds


def cmd_cleanup(session: Session, args: argparse.Namespace) -> int:
    for arg in args.targets:
        target = session.target(arg if ":" in arg else f"{arg}:")
        removed = target.node.cleanup(older_than=args.older_than, dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        mount = target.node.mount_name
        for item in removed:
            print(f"{verb} {mount}:{item}")
        print(f"{target.shown}: {verb} {len(removed)} leftover(s)", file=sys.stderr)
    return 0


def into_directory(target: Target, source: StorageNode) -> StorageNode:
    """``DEST/`` or an existing directory receives the source under its own name."""
    if target.trailing_slash or target.node.isdir:
        return target.node.child(source.basename)
    return target.node


def cmd_mv(session: Session, args: argparse.Namespace) -> int:
    source = session.target(args.source)
    stat_or_fail(session, source)
    if is_root(source.node.path):
        raise MountRootError(f"{source.shown}: refusing to move the root of a mount")
    dest = into_directory(session.target(args.dest), source.node)
    if dest.fullpath == source.node.fullpath:
        raise ValueError(f"{source.shown}: source and destination are the same")
    source.node.move_to(dest)
    return 0
