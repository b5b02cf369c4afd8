"""The ``genro-storage`` command line: the node API from a shell.

::

    genro-storage --config mounts.yaml ls -l uploads:users/7
    genro-storage cp ./report.pdf uploads:reports/ --skip hash
    genro-storage sync ./site/ backups:site --delete --dry-run

Arguments are ``mount:path`` specs (mounts from ``--config`` or ``GENRO_STORAGE_CONFIG``)
or plain local paths (``./x.txt``, ``/tmp/y``), which go through an implicit local mount.
User errors print one line, ``genro-storage: error: ...``, on stderr and exit with a
code from :data:`EXIT_CODES`; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from ..errors import (
    CapabilityError,
    PathTraversalError,
    StorageConfigError,
    StorageConnectionError,
    StorageError,
)
from ._parser import PROG, UsageError, build_parser
from ._resolve import Session, Unsupported

__all__ = ["EXIT_CODES", "main"]

#: Exit status of each kind of failure (documented in docs/cli.md).
EXIT_CODES = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "config": 3,
    "not_found": 4,
    "permission": 5,
    "unsupported": 6,
    "connection": 7,
    "path_refused": 8,
    "interrupted": 130,
}


def exit_code_for(exc: BaseException) -> int:
    """The exit status for an exception raised by a command."""
    if isinstance(exc, UsageError):
        return EXIT_CODES["usage"]
    if isinstance(exc, StorageConfigError):
        return EXIT_CODES["config"]
    if isinstance(exc, (CapabilityError, Unsupported)):
        return EXIT_CODES["unsupported"]
    if isinstance(exc, PathTraversalError):
        return EXIT_CODES["path_refused"]
    if isinstance(exc, PermissionError):
        return EXIT_CODES["permission"]
    if isinstance(exc, FileNotFoundError):
        return EXIT_CODES["not_found"]
    if isinstance(exc, (ConnectionError, StorageConnectionError)):
        return EXIT_CODES["connection"]
    return EXIT_CODES["error"]


def describe_error(exc: BaseException) -> str:
    """One line for the user: the message, without errno noise or line breaks."""
    strerror = getattr(exc, "strerror", None)
    filename = getattr(exc, "filename", None)
    if isinstance(exc, OSError) and strerror and filename:
        text = f"{filename}: {strerror}"
    else:
        text = str(exc) or type(exc).__name__
    if not isinstance(exc, (StorageError, OSError, ValueError, TypeError, UsageError)):
        text = f"{type(exc).__name__}: {text} (run with --debug for the traceback)"
    return " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status (see :data:`EXIT_CODES`)."""
    parser = build_parser()
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        args = parser.parse_args(args_list)
        debug = bool(getattr(args, "debug", False))
        with Session(
            getattr(args, "config", None), retries=getattr(args, "retries", None)
        ) as session:
            return int(args.run(session, args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_CODES["interrupted"]
    except BrokenPipeError:  # `genro-storage cat big | head`: the reader went away
        _silence_stdout()
        return EXIT_CODES["ok"]
    except SystemExit:
        raise
    except BaseException as exc:  # every other failure: one line, or the traceback
        if debug:
            traceback.print_exc()
        else:
            print(f"{PROG}: error: {describe_error(exc)}", file=sys.stderr)
        return exit_code_for(exc)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
