"""Conditional requests (RFC 9110 §13): entity-tag lists, HTTP dates, and their evaluation.

Parsers return None for a value they cannot read; :func:`evaluate` turns the request's
precondition fields into one outcome, following the order of RFC 9110 §13.2.2:

1. ``If-Match`` (strong comparison, §13.1.1) false -> 412;
2. else ``If-Unmodified-Since`` (§13.1.4) false -> 412;
3. ``If-None-Match`` (weak comparison, §13.1.2) false -> 304 for GET/HEAD;
4. else ``If-Modified-Since`` (§13.1.3) false -> 304;
5. ``If-Range`` (§13.1.5, strong comparison or exact date) only matters with ``Range``
   on GET and is answered by :func:`if_range_holds`.

Dates compare in whole seconds, the precision of ``Last-Modified``.
"""

from __future__ import annotations

import math
import re
from calendar import timegm
from datetime import datetime, timezone
from email.utils import parsedate_tz
from typing import Literal, Union

from ._text import OWS

__all__ = [
    "ANY",
    "EntityTag",
    "Outcome",
    "evaluate",
    "if_range_holds",
    "last_modified_seconds",
    "parse_etag_list",
    "parse_http_date",
    "strong_match",
    "weak_match",
]

EntityTag = tuple[bool, str]
"""``(weak, opaque)``: ``W/"x"`` is ``(True, "x")``, ``"x"`` is ``(False, "x")``."""

ANY: Literal["*"] = "*"
EtagList = Union[list[EntityTag], Literal["*"]]
Outcome = Literal["proceed", "not_modified", "precondition_failed"]

_MAX_TAGS = 256  # a longer list is treated as malformed: it would only be an attack
_NOT_ETAGC = re.compile("[\x00-\x20\x7f]")  # one character class: linear, no backtracking
_MAX_DATE_LEN = 64  # the longest HTTP-date form (RFC 850 with a long weekday) is ~40


def _scan_tag(value: str, pos: int, lenient: bool) -> tuple[EntityTag, int] | None:
    """Read one entity-tag at ``pos``; return it and the position after it."""
    weak = value.startswith("W/", pos)
    if weak:
        pos += 2
    if value.startswith('"', pos):
        end = value.find('"', pos + 1)
        if end < 0:
            return None
        opaque = value[pos + 1 : end]
        if _NOT_ETAGC.search(opaque):
            return None  # RFC 9110 §8.8.3: etagc excludes spaces and controls
        return (weak, opaque), end + 1
    if not lenient:
        return None
    # Legacy: genro-storage 0.4.2 stripped quotes, so bare tokens (a"b) were accepted.
    end = value.find(",", pos)
    end = len(value) if end < 0 else end
    opaque = value[pos:end].strip(OWS).replace('"', "")
    return ((weak, opaque), end) if opaque else None


def parse_etag_list(value: str | None, lenient: bool = False) -> EtagList | None:
    """Parse ``If-Match``/``If-None-Match``: ``"*"``, a list of tags, or None if malformed.

    ``"*"`` is only recognised alone (§13.1.1). ``lenient`` also accepts unquoted tags,
    as genro-storage 0.4.2 did. More than 256 tags count as malformed.
    """
    if value is None:
        return None
    if value.strip(OWS) == "*":
        return ANY
    tags: list[EntityTag] = []
    pos, length = 0, len(value)
    while pos < length:
        char = value[pos]
        if char in OWS or char == ",":  # §5.6.1: OWS and empty list elements
            pos += 1
            continue
        scanned = _scan_tag(value, pos, lenient)
        if scanned is None:
            return None
        tag, pos = scanned
        tags.append(tag)
        if len(tags) > _MAX_TAGS:
            return None
        while pos < length and value[pos] in OWS:
            pos += 1
        if pos < length and value[pos] != ",":
            return None
    return tags or None


def weak_match(tags: EtagList, etag: str | None) -> bool:
    """Weak comparison (§8.8.3.2): opaque tags equal, weakness ignored."""
    if tags == ANY:
        return True
    return etag is not None and any(opaque == etag for _, opaque in tags)


def strong_match(tags: EtagList, etag: str | None) -> bool:
    """Strong comparison (§8.8.3.2): both tags strong and opaque tags equal."""
    if tags == ANY:
        return True
    return etag is not None and any(not weak and opaque == etag for weak, opaque in tags)


def parse_http_date(value: str | None) -> int | None:
    """Parse an HTTP-date (§5.6.7: IMF-fixdate, RFC 850 or asctime) to a POSIX second.

    None for anything else, including a list of dates (more than one member) and
    impossible dates such as 31 February.
    """
    if value is None or len(value) > _MAX_DATE_LEN or value.count(",") > 1:
        return None
    parts = parsedate_tz(value)
    if parts is None:
        return None
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9] or 0
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None
    return timegm(moment.utctimetuple()) - offset


def last_modified_seconds(mtime: float | None) -> int | None:
    """The whole second sent in ``Last-Modified`` for ``mtime`` (None if unusable)."""
    if mtime is None or not math.isfinite(mtime):
        return None
    return math.floor(mtime)


def evaluate(
    method: str,
    if_match: str | None,
    if_unmodified_since: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str | None,
    mtime: float | None,
    lenient: bool = False,
) -> Outcome:
    """Evaluate the preconditions of a request for an existing representation.

    ``lenient`` accepts unquoted tags in ``If-None-Match`` (legacy mode).
    """
    if if_match is None and if_unmodified_since is None:
        if if_none_match is None and if_modified_since is None:
            return "proceed"
        if if_none_match is not None and etag is not None and _is_tag_of(if_none_match, etag):
            return "not_modified" if method in ("GET", "HEAD") else "precondition_failed"
    modified = last_modified_seconds(mtime)
    if if_match is not None:
        # A malformed If-Match cannot be shown to hold, so it fails (412), the safe way.
        tags = parse_etag_list(if_match)
        if tags is None or not strong_match(tags, etag):
            return "precondition_failed"
    elif if_unmodified_since is not None:
        date = parse_http_date(if_unmodified_since)
        if date is not None and modified is not None and modified > date:
            return "precondition_failed"
    if if_none_match is not None:
        # A malformed If-None-Match matches nothing, and still disables If-Modified-Since.
        tags = parse_etag_list(if_none_match, lenient)
        if tags is not None and weak_match(tags, etag):
            return "not_modified" if method in ("GET", "HEAD") else "precondition_failed"
    elif if_modified_since is not None and method in ("GET", "HEAD"):
        date = parse_http_date(if_modified_since)
        if date is not None and modified is not None and modified <= date:
            return "not_modified"
    return "proceed"


def _is_tag_of(value: str, etag: str) -> bool:
    """True when ``value`` is exactly ``"etag"`` or ``W/"etag"``: what a cache sends back, and
    a one-tag list that matches ``etag`` weakly (the full parse would say the same)."""
    if value[:2] == "W/":
        value = value[2:]
    return (
        len(value) == len(etag) + 2 and value[0] == '"' and value[-1] == '"' and value[1:-1] == etag
    )


def if_range_holds(if_range: str | None, etag: str | None, mtime: float | None) -> bool:
    """Tell whether Range may be honoured given ``If-Range`` (§13.1.5).

    No If-Range: yes. An entity tag: strong comparison (a weak tag never holds). A date:
    only when it equals ``Last-Modified`` exactly. Anything else: no, so Range is ignored.
    """
    if if_range is None:
        return True
    value = if_range.strip(OWS)
    if value.startswith(('"', "W/")):
        tags = parse_etag_list(value)
        return isinstance(tags, list) and len(tags) == 1 and strong_match(tags, etag)
    date = parse_http_date(value)
    modified = last_modified_seconds(mtime)
    return date is not None and modified is not None and date == modified
