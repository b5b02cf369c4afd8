"""The demo: a tour of the node API on the embedded local and memory backends.

``python -m genro_storage.demo`` (or ``bash scripts/demo.sh``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from . import StorageManager


def build_storage(root: str) -> StorageManager:
    """A manager with a local mount on ``root`` and a memory mount, seeded with samples."""
    storage = StorageManager()
    storage.configure(
        [
            {"name": "files", "type": "local", "path": root},
            {"name": "scratch", "type": "memory", "base_path": "genro-demo"},
        ]
    )
    storage.node("files:hello.txt").write("Hello from genro-storage!\n")
    storage.node("files:docs/readme.md").write("# Demo\n\nServed by genro-storage.\n")
    storage.node("files:data/numbers.csv").write(
        "n,square\n" + "".join(f"{n},{n * n}\n" for n in range(1, 11))
    )
    storage.node("scratch:notes/today.txt").write("kept in memory\n")
    return storage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="genro_storage.demo", description=__doc__)
    parser.add_argument("--root", help="directory for the local mount (default: a temp dir)")
    args = parser.parse_args(argv)
    root = args.root or tempfile.mkdtemp(prefix="genro-demo-")
    storage = build_storage(root)
    print(f"mounts: {', '.join(storage.get_mount_names())} (local root {root})")
    for node, entry in storage.node("files:").walk():
        kind = "dir " if entry.is_dir else f"{entry.size:>5}B"
        print(f"  {kind} {node.fullpath}  {'' if entry.is_dir else node.mimetype}")
    copy = storage.node("files:docs").copy_to("scratch:backup/docs", skip="hash")
    print(f"copied files:docs -> {copy.fullpath}: {[c.basename for c in copy.children()]}")
    print(f"md5 of hello.txt: {storage.node('files:hello.txt').md5hash}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
