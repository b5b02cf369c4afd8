"""The ``Range`` request header (RFC 9110 §14.1, §14.2), parsed in linear time.

:func:`parse_range` returns one of three answers:

* ``None``: ignore the header and send the whole file (200). Used for a malformed header,
  an unknown range unit, an invalid range such as ``bytes=5-1``, more ranges than the
  caller allows (or more than 64 empty list elements besides them), and a suffix range
  on an empty file (there is nothing to slice).
  RFC 9110 §14.2 lets a server ignore Range at any time, so ignoring is always safe.
* :data:`UNSATISFIABLE`: the header is valid but no range overlaps the file (416).
* a list of inclusive ``(first, last)`` byte positions, each inside ``[0, size)``, with
  overlapping, adjacent and nearly adjacent ranges coalesced, in the order they were
  asked for (a coalesced range takes the place of the first of its ranges).

Why coalescing: RFC 9110 §15.3.7.2 lets a server coalesce ranges that overlap or are
separated by a gap smaller than the overhead of a multipart part, regardless of the
order they came in. It defeats the classic amplification request (``bytes=0-,0-,0-``)
and ``bytes=0-1,2-3`` becomes one part. Why the order: the same section says the parts
SHOULD come in the order of the range-specs, except those coalesced; ``bytes=500-599,
0-99`` is answered with ``500-599`` first, as a client reading an index then a header
expects. Why a cap instead of a 416 when there are too
many ranges: §14.2 allows ignoring such a header, and 200 always works for the client.

No regular expression runs over the whole header: it is split on commas and each item
costs work proportional to its own length (Starlette's CVE-2025-62727 was a quadratic
Range parser). Numbers longer than 18 digits are treated as "beyond any file" rather
than converted, so a megabyte of digits cannot hit ``int()``'s digit limit either.
"""

from __future__ import annotations

import enum
from typing import Union

from ._text import OWS, is_digits

__all__ = ["MERGE_GAP", "UNSATISFIABLE", "RangeResult", "Unsatisfiable", "parse_range"]

# A multipart part costs about this many bytes of headers; a smaller gap is cheaper to send.
MERGE_GAP = 80
_HUGE = 10**18  # larger than any file; stands for numbers we do not convert
# §5.6.1: "a reasonable number of empty list elements" is skipped; beyond this many extra
# commas the header is ignored without walking its items one by one in Python.
_SPARE_COMMAS = 64


class Unsatisfiable(enum.Enum):
    """Type of :data:`UNSATISFIABLE`, the "answer 416" result of :func:`parse_range`."""

    UNSATISFIABLE = "unsatisfiable"

    def __repr__(self) -> str:
        return "UNSATISFIABLE"


UNSATISFIABLE = Unsatisfiable.UNSATISFIABLE

RangeResult = Union[list[tuple[int, int]], None, Unsatisfiable]


def _number(text: str) -> int | None:
    """Parse ``1*DIGIT`` (ASCII only); None when it is not one."""
    text = text.strip(OWS)
    if not is_digits(text):
        return None
    digits = text.lstrip("0") or "0"
    return _HUGE if len(digits) > 18 else int(digits)


def _spec(item: str, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """One range-spec: ``(first, last)``, UNSATISFIABLE, or None to ignore the header."""
    first_text, dash, last_text = item.partition("-")
    if not dash:
        return None
    if not first_text.strip(OWS):
        # suffix-range = "-" suffix-length (RFC 9110 §14.1.1): the last N bytes.
        length = _number(last_text)
        if length is None:
            return None
        if length == 0:
            return UNSATISFIABLE
        if size == 0:
            # §14.1.1: on an empty representation a non-zero suffix range is satisfiable,
            # yet there is no byte to send: ignore Range and send the (empty) whole file.
            return None
        return (max(size - length, 0), size - 1)
    first = _number(first_text)
    if first is None:
        return None
    if last_text.strip(OWS):
        last = _number(last_text)
        if last is None or last < first:
            return None  # §14.1.1: an int-range with last-pos < first-pos is invalid
    else:
        last = _HUGE
    if first >= size:
        return UNSATISFIABLE  # §14.1.1: satisfiable only if first-pos < the length
    return (first, min(last, size - 1))


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping and nearly adjacent ranges; keep the order they were asked in,
    each merged range where the first (in request order) of its members was."""
    if len(ranges) == 1:
        return ranges
    by_position = sorted((first, last, asked) for asked, (first, last) in enumerate(ranges))
    merged = [list(by_position[0])]
    for first, last, asked in by_position[1:]:
        current = merged[-1]
        if first <= current[1] + 1 + MERGE_GAP:
            current[1] = max(current[1], last)
            current[2] = min(current[2], asked)
        else:
            merged.append([first, last, asked])
    merged.sort(key=lambda item: item[2])
    return [(first, last) for first, last, _ in merged]


def parse_range(header: str | None, size: int, max_ranges: int = 16) -> RangeResult:
    """Parse a ``Range`` header for a file of ``size`` bytes.

    Returns inclusive ``(first, last)`` pairs, :data:`UNSATISFIABLE` or None (ignore the
    header); see the module docstring. Range units are case-insensitive (§14.1);
    whitespace around items, ``=`` and ``-`` is tolerated, empty list items are skipped
    (§5.6.1).
    """
    if header is None:
        return None
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip(OWS).lower() != "bytes":
        return None  # §14.2: a range unit we do not understand is ignored
    if range_set.count(",") >= max_ranges + _SPARE_COMMAS:
        return None
    satisfiable: list[tuple[int, int]] = []
    count = 0
    for raw in range_set.split(","):
        item = raw.strip(OWS)
        if not item:
            continue
        count += 1
        if count > max_ranges:
            return None
        spec = _spec(item, size)
        if spec is None:
            return None
        if spec is not UNSATISFIABLE:
            satisfiable.append(spec)
    if count == 0:
        return None
    # §14.1.1/§15.3.7: unsatisfiable specs are dropped when at least one is satisfiable.
    return _coalesce(satisfiable) if satisfiable else UNSATISFIABLE
