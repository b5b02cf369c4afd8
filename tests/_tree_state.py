"""What a folder tree holds, to compare two routes that should leave the same result."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def tree_state(base: Path, file_state: Callable[[Path], Any]) -> dict[str, Any]:
    """Every entry below ``base`` by relative path: a link as ``("link", target)`` (with
    ``base`` spelled ``BASE``), a folder as ``("dir",)``, a file as ``file_state(path)``."""
    found: dict[str, Any] = {}
    for folder, dirs, files in os.walk(base):
        for name in dirs + files:
            full = Path(folder) / name
            rel = str(full.relative_to(base))
            if full.is_symlink():
                found[rel] = ("link", os.readlink(full).replace(str(base), "BASE"))
            elif full.is_file():
                found[rel] = file_state(full)
            else:
                found[rel] = ("dir",)
    return found
