"""The argparse tree of ``genro-storage``: one sub-command per operation."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from ._sizes import parse_rate, parse_size

__all__ = ["PROG", "UsageError", "build_parser", "positive"]

PROG = "genro-storage"

EPILOG = """\
arguments are 'mount:path' (mounts from --config FILE or $GENRO_STORAGE_CONFIG)
or local paths (./x.txt, /tmp/y). Exit status: 0 ok, 1 error, 2 usage,
3 configuration, 4 not found, 5 permission denied, 6 unsupported by the mount,
7 connection failed, 8 path refused (traversal), 130 interrupted."""


class UsageError(Exception):
    """Bad command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, raised instead of printed, so main() reports them."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _common() -> _Parser:
    # accepted before and after the sub-command; SUPPRESS keeps the earlier value
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="YAML/JSON mount configuration (default: $GENRO_STORAGE_CONFIG)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    common.add_argument(
        "--retries",
        type=_not_negative,
        metavar="N",
        default=argparse.SUPPRESS,
        help="retries after a transient failure (reset, timeout, 5xx, SlowDown) on every "
        "S3/GCS/Azure mount, per request and per file copied (default: the mount's, 4)",
    )
    return common


def _copy_options() -> _Parser:
    opts = _Parser(add_help=False)
    opts.add_argument(
        "--skip",
        choices=("never", "exists", "size", "mtime", "hash"),
        help="leave existing destination files alone: when they exist, have the same size, "
        "the same size and are not older (mtime: listings only), "
        "or the same MD5 (object-store ETags, no download)",
    )
    opts.add_argument(
        "--include", action="append", metavar="PATTERN", help="copy only matching files"
    )
    opts.add_argument(
        "--exclude", action="append", metavar="PATTERN", help="do not copy matching files"
    )
    opts.add_argument(
        "--dry-run", "-n", action="store_true", help="print what would happen, change nothing"
    )
    opts.add_argument("--verbose", "-v", action="store_true", help="one line per file")
    opts.add_argument(
        "--no-progress", action="store_true", help="no progress bar (shown only on a terminal)"
    )
    opts.add_argument(
        "--transfers",
        type=_positive,
        metavar="N",
        help="files copied at once (default 16)",
    )
    opts.add_argument(
        "--part-size",
        type=parse_size,
        metavar="SIZE",
        help="object stores: bytes per part of a multipart upload: 16M, 64M... "
        "(default: the mount's part_size, 5M on S3)",
    )
    opts.add_argument(
        "--part-concurrency",
        type=_positive,
        metavar="N",
        help="object stores: parts of one file sent at once (default: the mount's; 5 on S3)",
    )
    opts.add_argument(
        "--bwlimit",
        type=parse_rate,
        metavar="RATE",
        help="limit transfers to RATE bytes per second: 10M (MiB/s), 512K, 1G; "
        "a bare number is KiB/s, as in rclone",
    )
    opts.add_argument(
        "--stats",
        type=float,
        metavar="SECONDS",
        help="print a progress line (files, bytes, rate) every SECONDS on stderr",
    )
    return opts


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive(text: str) -> int:
    """An argparse ``type``: a whole number of at least 1."""
    return _positive(text)


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each sub-command sets ``run(session, args) -> int``."""
    from .. import __version__
    from . import compare, console, files, transfer, usage, web

    common = _common()
    parser = _Parser(
        prog=PROG,
        description="One pathlib-like API over every place files live, from the shell.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def add(name: str, help: str, *parents: _Parser, **kwargs: Any) -> argparse.ArgumentParser:
        parser_parents: list[_Parser] = [common, *parents]
        return sub.add_parser(name, help=help, description=help, parents=parser_parents, **kwargs)

    files.register(add)
    usage.register(add)
    compare.register(add)
    transfer.register(add, _copy_options)
    web.register(add)
    console.register(add)
    return parser
