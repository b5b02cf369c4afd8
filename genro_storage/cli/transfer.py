"""Commands that move bytes between places: put, get, cp, sync (skip strategies, filters,
``--dry-run``, a progress bar on a terminal, ``--delete`` for sync)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import StorageNotFoundError
from ..fileio import CHUNK_SIZE
from ._bwlimit import RateLimit
from ._resolve import Session, Target
from .files import into_directory, stat_or_fail

if TYPE_CHECKING:
    from ..node import StorageNode

__all__ = ["register"]


def register(add: Callable[..., argparse.ArgumentParser], copy_options: Callable[[], Any]) -> None:
    """Add this module's sub-commands to the parser."""
    p = add("put", "upload a local file or directory ('-' reads stdin)", copy_options())
    p.add_argument("source", metavar="LOCAL")
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(run=cmd_put)

    p = add(
        "get", "download a file or directory to a local path ('-' writes stdout)", copy_options()
    )
    p.add_argument("source", metavar="SRC")
    p.add_argument("dest", metavar="LOCAL")
    p.set_defaults(run=cmd_get)

    p = add(
        "cp",
        "copy files and trees, across mounts (like cp -r; 'SRC/' copies the contents)",
        copy_options(),
    )
    p.add_argument("sources", nargs="+", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.set_defaults(run=cmd_cp)

    p = add(
        "sync",
        "make DEST a copy of SRC, transferring only what changed (default --skip hash)",
        copy_options(),
    )
    p.add_argument("source", metavar="SRC")
    p.add_argument("dest", metavar="DEST")
    p.add_argument("--delete", action="store_true", help="remove DEST files that SRC does not have")
    p.set_defaults(run=cmd_sync)


# ---------------------------------------------------------------------- running
@dataclass(frozen=True)
class Step:
    """One decision of a copy: ``copy``, ``skip`` (with the reason) or ``delete``."""

    action: str
    name: str
    reason: str = ""


class Reporter:
    """Per-file lines (``-v``), the progress bar (terminal only) and the closing summary."""

    def __init__(self, session: Session, args: argparse.Namespace) -> None:
        self.session = session
        self.verbose = bool(args.verbose)
        self.show_bar = not args.no_progress and not args.dry_run and sys.stderr.isatty()
        self.counts = {"copy": 0, "skip": 0, "delete": 0}
        self._bar: Any = None
        self.files = (0, 0)
        self.stats_every: float | None = getattr(args, "stats", None)
        self._started = self._last_stats = time.monotonic()
        self.dry_run = bool(args.dry_run)
        self.base = ""
        self.dest_base = ""
        self.shown = ""
        self.limit = make_limit(args)
        self._limited = 0  # bytes of the current source already held to --bwlimit
        self.single_size: int | None = None  # a single file's size (no byte progress)

    @property
    def counts_bytes(self) -> bool:
        """Whether anything uses the byte counts: the bar, ``--stats``, ``--bwlimit``."""
        return self.show_bar or self.stats_every is not None or self.limit is not None

    def start(self, base: str, dest_base: str, shown: str, single_size: int | None) -> None:
        """A new source: its byte counts start from zero."""
        self.base, self.dest_base, self.shown = base, dest_base, shown
        self.single_size = single_size
        self._limited = 0

    def step(self, step: Step, dry_run: bool) -> None:
        self.counts[step.action] += 1
        if dry_run or self.verbose:
            done = {"copy": "copied", "skip": "skipped", "delete": "deleted"}[step.action]
            label = f"would {step.action}" if dry_run else done
            reason = f" ({step.reason})" if step.reason else ""
            print(f"{label}: {step.name}{reason}")

    def _rel(self, node: StorageNode, base: str | None = None) -> str:
        base = self.base if base is None else base
        path = node.path or ""
        if base and path.startswith(base + "/"):
            return path[len(base) + 1 :]
        if self.shown:
            return self.shown
        return self.session.show(node) if not base else path

    def on_file(self, node: StorageNode) -> None:
        self.step(Step("copy", self._rel(node)), self.dry_run)
        if self.limit is not None and self.single_size is not None:
            self.limit.consume(self.single_size)  # one file: no byte progress comes

    def on_skip(self, node: StorageNode, reason: str) -> None:
        self.step(Step("skip", self._rel(node), reason), self.dry_run)

    def on_delete(self, node: StorageNode) -> None:
        self.step(Step("delete", self._rel(node, self.dest_base)), self.dry_run)

    def progress(self, done: int, total: int) -> None:
        self.files = (done, total)

    def progress_bytes(self, done: int, total: int) -> None:
        """The bar in bytes (rate, ETA) on a terminal; ``--stats`` lines otherwise.

        ``--bwlimit`` holds the copy here: the engine waits for this callback before
        it starts more files, so the bytes moved never run ahead of the limit by more
        than the files in flight.
        """
        if self.limit is not None:
            self.limit.consume(done - self._limited)
            self._limited = done
        if self.stats_every is not None:
            now = time.monotonic()
            if now - self._last_stats >= self.stats_every or done == total:
                self._last_stats = now
                elapsed = max(now - self._started, 1e-9)
                print(
                    f"{self.files[0]}/{self.files[1]} files, {_size(done)}/{_size(total)}, "
                    f"{_size(done / elapsed)}/s",
                    file=sys.stderr,
                    flush=True,
                )
        if not self.show_bar:
            return
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:  # the 'cli' extra is not installed: no bar
                self.show_bar = False
                return
            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                leave=False,
            )
        self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(f"{self.files[0]}/{self.files[1]} files", refresh=False)
        self._bar.refresh()

    def close(self, dry_run: bool) -> None:
        if self._bar is not None:
            self._bar.close()
        c = self.counts
        if dry_run:
            print(
                f"dry run: {c['copy']} to copy, {c['skip']} to skip, {c['delete']} to delete "
                "(nothing changed)"
            )
        elif self.verbose:
            print(f"{c['copy']} copied, {c['skip']} skipped, {c['delete']} deleted")


def transfer(
    session: Session,
    args: argparse.Namespace,
    pairs: list[tuple[Target, StorageNode]],
    *,
    skip: str,
    delete: bool = False,
) -> int:
    """Copy each ``(source, destination node)`` pair, or print the plan with ``--dry-run``.

    The copy engine decides everything (filters, skips, deletions) from one listing of
    each side; ``--dry-run`` is its ``dry_run``, so what is printed is what would run.
    """
    include, exclude = list(args.include or []), list(args.exclude or [])
    reporter = Reporter(session, args)
    try:
        for source, dest in pairs:
            src = source.node
            entry = stat_or_fail(session, source)
            _refuse_into_itself(session, src, dest)
            is_tree = entry.is_dir
            reporter.start(
                (src.path or "") if is_tree else "",
                (dest.path or "") if is_tree else "",
                source.shown if args.dry_run and not is_tree else "",
                None if is_tree else entry.size,
            )
            options: dict[str, Any] = {
                "include": include or None,
                "exclude": exclude or None,
                "skip": skip,
                "on_file": reporter.on_file,
                "on_skip": reporter.on_skip,
                # only when shown or needed: a byte total makes the engine list the whole
                # source before the first copy; without one it copies while it lists
                "progress": reporter.progress if reporter.counts_bytes else None,
                "progress_bytes": reporter.progress_bytes if reporter.counts_bytes else None,
            }
            if getattr(args, "transfers", None):
                options["max_workers"] = args.transfers
            if getattr(args, "part_size", None):
                options["part_size"] = args.part_size
            if getattr(args, "part_concurrency", None):
                options["part_concurrency"] = args.part_concurrency
            if args.dry_run or delete:
                report = src.sync_to(
                    dest,
                    delete=delete,
                    dry_run=bool(args.dry_run),
                    on_delete=reporter.on_delete,
                    on_error="raise",
                    **options,
                )
                if delete and is_tree:
                    _prune_directories(src, dest, report.deleted, reporter, bool(args.dry_run))
            else:
                src.copy_to(dest, **options)
    finally:
        reporter.close(args.dry_run)
    return 0


def _prune_directories(
    src: StorageNode, dest: StorageNode, deleted: list[str], reporter: Reporter, dry_run: bool
) -> None:
    """Directories of ``dest`` the source lacks, left empty by the deletions (local disks
    and other stores with real directories; object-store prefixes vanish by themselves)."""
    gone = set(deleted)
    candidates: set[str] = set()
    for rel in deleted:
        parts = rel.split("/")[:-1]
        candidates.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for rel in sorted(candidates, key=lambda r: (-r.count("/"), r)):
        if src.child(rel).exists:
            continue
        folder = dest.child(rel)
        if not folder.isdir:
            continue
        inside = [(node.path or "") for node, entry in folder.walk() if not entry.is_dir]
        base = (dest.path or "") + "/" if dest.path else ""
        if not all(path[len(base) :] in gone for path in inside):
            continue
        if not dry_run:
            folder.delete()
        gone.add(rel)
        reporter.step(Step("delete", rel + "/"), dry_run)


def _refuse_into_itself(session: Session, src: StorageNode, dest: StorageNode) -> None:
    same_mount = src.mount_name == dest.mount_name
    inner = (dest.path or "") + "/"
    if same_mount and src.isdir and (not src.path or inner.startswith((src.path or "") + "/")):
        raise ValueError(f"cannot copy {session.show(src)} into itself ({session.show(dest)})")


def _destination(source: Target, dest: Target, many: bool) -> StorageNode:
    if source.trailing_slash and source.node.isdir:
        return dest.node  # 'SRC/': the contents of SRC go into DEST
    if many and not dest.trailing_slash:
        dest = Target(dest.node, dest.shown, True)
    return into_directory(dest, source.node)


def cmd_cp(session: Session, args: argparse.Namespace) -> int:
    sources = [session.target(arg) for arg in args.sources]
    dest = session.target(args.dest)
    many = len(sources) > 1
    if many and dest.node.exists and not dest.node.isdir:
        raise NotADirectoryError(f"{dest.shown}: copying several sources needs a directory")
    pairs = [(s, _destination(s, dest, many)) for s in sources]
    return transfer(session, args, pairs, skip=args.skip or "never")


def cmd_sync(session: Session, args: argparse.Namespace) -> int:
    source, dest = session.target(args.source), session.target(args.dest)
    return transfer(
        session, args, [(source, dest.node)], skip=args.skip or "hash", delete=args.delete
    )


def cmd_put(session: Session, args: argparse.Namespace) -> int:
    dest = session.target(args.dest)
    if args.source == "-":
        if dest.trailing_slash or dest.node.isdir:
            raise IsADirectoryError(f"{dest.shown}: put - needs a file destination")
        if not args.dry_run:
            stdin = sys.stdin.buffer
            chunks = iter(lambda: stdin.read(CHUNK_SIZE), b"")
            limit = make_limit(args)
            dest.node.write_stream(limit.chunks(chunks) if limit else chunks)
        return 0
    source = session.target(args.source, local=True)
    return transfer(
        session, args, [(source, _destination(source, dest, False))], skip=args.skip or "never"
    )


def cmd_get(session: Session, args: argparse.Namespace) -> int:
    source = session.target(args.source)
    if args.dest == "-":
        if stat_or_fail(session, source).is_dir:
            raise IsADirectoryError(f"{source.shown}: get - needs a file")
        out = sys.stdout.buffer
        limit = make_limit(args)
        chunks = source.node.iter_bytes()
        for chunk in limit.chunks(chunks) if limit else chunks:
            out.write(chunk)
        out.flush()
        return 0
    if not source.node.exists:
        raise StorageNotFoundError(f"{source.shown}: no such file or directory")
    dest = session.target(args.dest, local=True)
    return transfer(
        session, args, [(source, _destination(source, dest, False))], skip=args.skip or "never"
    )


def make_limit(args: argparse.Namespace) -> RateLimit | None:
    """The ``--bwlimit`` bucket of this command (none for a dry run or no limit)."""
    rate = getattr(args, "bwlimit", None)
    if not rate or getattr(args, "dry_run", False):
        return None
    return RateLimit(rate)


def _size(count: float) -> str:
    """``1.5 MiB``-style sizes for the progress lines."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"
