"""``genro-storage check SRC DST``: are two trees the same? (``rclone check``)

The comparison is the engine's (:func:`genro_storage.engine.checking.check`); this module
prints it: one line per difference on stdout, rclone's summary on stderr, exit status 1
when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from ._parser import positive
from ._resolve import Session

if TYPE_CHECKING:
    from ..engine.checking import CheckReport

__all__ = ["register"]


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the ``check`` sub-command."""
    p = add(
        "check",
        "compare two trees by size and MD5 (where both sides have one); exit 1 if they differ",
    )
    p.add_argument("source", metavar="SRC")
    p.add_argument("dest", metavar="DST")
    p.add_argument("--one-way", action="store_true", help="ignore files that only DST has")
    p.add_argument("--size-only", action="store_true", help="compare sizes only, never hashes")
    p.add_argument(
        "--include", action="append", metavar="PATTERN", help="compare only matching files"
    )
    p.add_argument("--exclude", action="append", metavar="PATTERN", help="leave matching files out")
    p.add_argument(
        "--checkers",
        type=positive,
        default=8,
        metavar="N",
        help="files compared at once (default 8)",
    )
    p.add_argument(
        "--combined",
        metavar="FILE",
        help="also write every path with its status to FILE ('-' = stdout): "
        "'=' same, '*' different, '+' only in SRC, '-' only in DST, '!' error",
    )
    p.set_defaults(run=cmd_check)


def cmd_check(session: Session, args: argparse.Namespace) -> int:
    from ..engine.checking import check

    source, dest = session.target(args.source), session.target(args.dest)
    report = check(
        source.node.location,
        dest.node.location,
        one_way=args.one_way,
        size_only=args.size_only,
        checkers=args.checkers,
        include=args.include or (),
        exclude=args.exclude or (),
    )
    if args.combined == "-":
        _combined(report, sys.stdout)
    else:
        _differences(report, source.shown, dest.shown)
        if args.combined:
            with open(args.combined, "w", encoding="utf-8") as out:
                _combined(report, out)
    _summary(report, source.shown, dest.shown)
    return 0 if report.ok else 1


def _differences(report: CheckReport, src: str, dest: str) -> None:
    """One line per difference, by path, in rclone's words."""
    lines = [(rel, reason) for rel, reason in report.differ]
    lines += [(rel, f"file not in {dest}") for rel in report.missing_on_dest]
    lines += [(rel, f"file not in {src}") for rel in report.missing_on_src]
    lines += [(rel, f"error: {' '.join(str(exc).split())}") for rel, exc in report.errors]
    for rel, reason in sorted(lines):
        print(f"{rel}: {reason}")


def _combined(report: CheckReport, out: IO[str]) -> None:
    rows = [("=", rel) for rel in report.matched]
    rows += [("*", rel) for rel, _ in report.differ]
    rows += [("+", rel) for rel in report.missing_on_dest]
    rows += [("-", rel) for rel in report.missing_on_src]
    rows += [("!", rel) for rel, _ in report.errors]
    for mark, rel in sorted(rows, key=lambda row: row[1]):
        out.write(f"{mark} {rel}\n")
    out.flush()


def _summary(report: CheckReport, src: str, dest: str) -> None:
    """rclone's closing counts, on stderr."""
    lines = []
    if report.missing_on_dest:
        lines.append(f"{dest}: {len(report.missing_on_dest)} files missing")
    if report.missing_on_src:
        lines.append(f"{src}: {len(report.missing_on_src)} files missing")
    lines.append(f"{dest}: {report.differences} differences found")
    if report.errors:
        lines.append(f"{dest}: {len(report.errors)} errors while checking")
    if report.unhashed:
        lines.append(f"{dest}: {len(report.unhashed)} hashes could not be checked")
    lines.append(f"{dest}: {len(report.matched)} matching files")
    for line in lines:
        print(line, file=sys.stderr)
