"""Sizes on the command line: ``-h`` output (``1.5K``, ``12M``), ``--bwlimit 10M`` and
``--part-size 16M`` input."""

from __future__ import annotations

import argparse
import math
import re

__all__ = ["human", "parse_rate", "parse_size", "show_size"]

_UNITS = "KMGTPE"
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bBkKmMgGtT]?)(?:i?B)?\s*(?:/s)?\s*$")
_FACTORS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def human(size: float) -> str:
    """``ls -lh`` sizes, powers of 1024: ``512``, ``1.5K``, ``12M``, ``3.0G``.

    As GNU ``ls -h``: one decimal below 10, rounded up, so a size never reads smaller
    than it is.
    """
    if size < 1024:
        return str(int(size))
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 10:
            shown = math.ceil(value * 10) / 10
            return f"{shown:.1f}{unit}" if shown < 10 else f"10{unit}"
        if math.ceil(value) < 1024 or unit == _UNITS[-1]:
            return f"{math.ceil(value)}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def show_size(size: int | None, human_readable: bool) -> str:
    """A size column: ``-`` when unknown, else bytes or :func:`human`."""
    if size is None:
        return "-"
    return human(size) if human_readable else str(size)


def parse_rate(text: str) -> float:
    """``--bwlimit`` values as rclone reads them: ``10M`` = 10 MiB/s, ``512K``, ``1.5G``,
    ``100B`` bytes; a bare number is KiB/s; ``0`` or ``off`` means no limit (returns 0)."""
    if text.strip().lower() in ("off", "0", ""):
        return 0.0
    match = _RATE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid rate {text!r}: a number with B, K, M, G or T (bytes per second; "
            "a bare number is KiB/s), e.g. 10M"
        )
    number, unit = float(match.group(1)), (match.group(2) or "k").lower()
    rate = number * _FACTORS[unit]
    if rate < 1:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}: under 1 byte per second")
    return rate


def parse_size(text: str) -> int:
    """``--part-size`` values as rclone reads sizes: ``16M`` = 16 MiB, ``512K``, ``1G``,
    ``100B`` bytes; a bare number is KiB (rclone's ``--s3-chunk-size``)."""
    match = _RATE.match(text)
    if not match or "/" in text:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: a number with B, K, M, G or T (a bare number is KiB), e.g. 16M"
        )
    number, unit = float(match.group(1)), (match.group(2) or "k").lower()
    size = int(number * _FACTORS[unit])
    if size < 1:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: under 1 byte")
    return size
