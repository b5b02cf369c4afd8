"""``python -m genro_storage.console``: the console, as ``genro-storage console`` runs it."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import StorageError
from .options import add_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genro_storage.console", description="the genro-storage web console"
    )
    parser.add_argument(
        "--config", "-c", default=os.environ.get("GENRO_STORAGE_CONFIG") or None,
        help="YAML/JSON mounts (default: $GENRO_STORAGE_CONFIG; none: the embedded default)",
    )  # fmt: skip
    add_arguments(parser)
    args = parser.parse_args(argv)
    from .server import build_app, load_storage, run

    try:
        storage = load_storage(args.config) if args.config else None
        app = build_app(storage, args)
    except (StorageError, OSError, ValueError) as exc:
        print(f"genro-storage console: error: {exc}", file=sys.stderr)
        return 2
    return run(app, args)


if __name__ == "__main__":
    sys.exit(main())
