"""Timestamps of S3 answers parsed without dateutil.

botocore parses every timestamp with ``dateutil`` (a general parser, about 0.3 ms each in
Python): the ``Last-Modified`` header of every GET and HEAD, and each entry of every
listing page. S3 sends two fixed forms only; :func:`parse_timestamp` reads those directly
and leaves anything else to botocore's own parser. It is installed on the S3 mounts'
sessions (``ResponseParserFactory.set_parser_defaults``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

__all__ = ["parse_timestamp"]

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_timestamp(value: Any) -> datetime:
    """A timezone-aware UTC datetime from ``2026-12-07T08:00:00.000Z`` (XML bodies) or
    ``Mon, 07 Dec 2026 08:00:00 GMT`` (headers); other forms as botocore parses them."""
    if isinstance(value, str):
        try:
            if value.endswith("Z") and len(value) in (20, 24) and value[10] == "T":
                return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
            if value.endswith(" GMT") and len(value) == 29:
                day, month, year, clock = value[5:25].split(" ")
                hour, minute, second = clock.split(":")
                return datetime(
                    int(year),
                    _MONTHS[month],
                    int(day),
                    int(hour),
                    int(minute),
                    int(second),
                    tzinfo=timezone.utc,
                )
        except (ValueError, KeyError):
            pass
    from botocore.utils import parse_timestamp as general

    parsed: datetime = general(value)
    return parsed
