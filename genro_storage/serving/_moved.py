"""Old import paths of the 0.5 development layout, kept for a while with a warning.

Each such module defines ``__getattr__`` (PEP 562) with :func:`moved`: every name taken
from it warns with a :class:`DeprecationWarning` that says where the name lives now,
then comes from there. Nothing in the package imports these paths.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Collection
from typing import Any

__all__ = ["moved"]


def moved(old: str, name: str, new: str, names: Collection[str]) -> Any:
    """``name`` of module ``new``, asked of the deprecated module ``old`` (which offers
    ``names``); ``AttributeError`` for any other name."""
    if name not in names:
        raise AttributeError(f"module {old!r} has no attribute {name!r}")
    warnings.warn(
        f"{old} is a deprecated import path: import {name} from {new}",
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(new), name)
