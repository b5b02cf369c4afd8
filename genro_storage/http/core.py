"""The serve decision: request method and headers + file metadata -> :class:`ResponsePlan`.

:func:`plan_response` does no I/O. It follows RFC 9110; the checks run in this order:

======  =====================================================================================
Status  When
======  =====================================================================================
405     the method is neither GET nor HEAD (``Allow: GET, HEAD``); never in legacy mode
404     the resource is None (body ``Not Found``)
400     a precondition, Range or If-Range field value holds CR, LF or NUL (§5.5)
412     ``If-Match`` does not match strongly (a malformed one never matches), or, without
        If-Match, the file changed after ``If-Unmodified-Since`` (§13.1.1, §13.1.4)
304     ``If-None-Match`` matches weakly, or, without it, the file has not changed since
        ``If-Modified-Since`` (§13.1.2, §13.1.3); no body, no Content-Type/Length
        (§15.4.5); ETag, Cache-Control, Vary (Last-Modified without an ETag) and the
        extra headers that are §15.4.5 fields (Expires, Content-Location...) are kept;
        the other extra headers (CORS) only when the request carries ``Origin``
416     GET with a valid ``Range`` none of whose ranges overlap the file, If-Range (if any)
        holding; ``Content-Range: bytes */<size>`` (§15.5.17)
206     GET with a satisfiable ``Range`` and a holding If-Range (§13.1.5): one range ->
        ``Content-Range``; several -> ``multipart/byteranges`` (§14.6)
200     everything else, including HEAD (§14.2: range handling is defined only for GET,
        so a HEAD with Range gets the 200 headers) and any Range we choose to ignore
======  =====================================================================================

Ignored Range headers (200): malformed, unknown unit, more than ``max_ranges`` ranges,
If-Range not holding, or several ranges of a content-encoded variant (each part would
need its own Content-Encoding, which clients do not expect).

Response headers on 200/206, in this order (0.4.2's five first): ``ETag`` (quoted),
``Content-Type`` (charset added to text types), ``Content-Length``, ``Content-Range``
(206), ``Content-Disposition`` (when ``download`` or ``download_name``), ``Cache-Control``
(``max-age=N[, immutable]`` when ``cache_max_age`` is set, else ``no-cache``, see
:attr:`ServeOptions.cache_control`; never ``public``, so a response to an authenticated
request stays out of shared caches, RFC 9111 §3.5), ``Last-Modified``,
``Accept-Ranges: bytes``, ``Content-Encoding`` and ``Vary: Accept-Encoding`` (precompressed
or negotiated variants), ``X-Content-Type-Options: nosniff``, then ``extra_headers``.

``legacy=True`` keeps what genro-storage 0.4.2's ``serve()`` callers could observe, and
nothing else: Content-Type exactly as given (no charset, 404 is ``text/plain``); methods
other than GET and HEAD are served like GET instead of 405 (0.4.2 never looked at the
method); unquoted ``If-None-Match`` tags are accepted (0.4.2 stripped the quotes). HEAD,
Range, Last-Modified, weak If-None-Match and every other rule apply as in normal mode.
The ETag itself is the caller's: pass 0.4.2's ``f"{mtime}-{size}"`` to keep old tags.

Precompressed variants: pick one with :func:`genro_storage.http.encoding.choose_encoding`
and describe it as the resource (its size, its ETag, ``content_encoding`` set).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import formatdate
from functools import lru_cache

from ._text import has_crlf_nul
from .conditional import evaluate, if_range_holds, last_modified_seconds
from .disposition import content_disposition
from .headers import _HeaderError, field, normalize_headers
from .multipart import byteranges, new_boundary
from .options import ServeOptions
from .ranges import UNSATISFIABLE, RangeResult, parse_range
from .resource import Resource
from .response import Part, ResponsePlan, status_line

__all__ = ["Part", "ResponsePlan", "content_type", "plan_response", "status_line"]

_DEFAULT_OPTIONS = ServeOptions()
_TEXT_APPLICATION = frozenset({"application/json", "application/javascript", "application/xml"})


@lru_cache(maxsize=512)
def content_type(media_type: str, charset: str | None) -> str:
    """Return ``media_type`` with ``; charset=...`` for text types when it has none.

    Text types are ``text/*``, ``application/json``, ``application/javascript``,
    ``application/xml`` and the ``+json``/``+xml`` suffixes (``image/svg+xml``). An empty
    media type becomes ``application/octet-stream``.
    """
    media_type = media_type.strip() or "application/octet-stream"
    essence = media_type.split(";", 1)[0].strip().lower()
    textual = (
        essence.startswith("text/")
        or essence in _TEXT_APPLICATION
        or essence.endswith(("+json", "+xml"))
    )
    if not charset or not textual or "charset=" in media_type.lower():
        return media_type
    return f"{media_type}; charset={charset}"


def _http_date(mtime: float | None) -> str | None:
    seconds = last_modified_seconds(mtime)
    return None if seconds is None else _imf_fixdate(seconds)


@lru_cache(maxsize=1024)
def _imf_fixdate(seconds: int) -> str | None:
    try:
        return formatdate(seconds, usegmt=True)  # IMF-fixdate, RFC 9110 §5.6.7
    except (OverflowError, ValueError, OSError):
        return None


def _fixed(
    status: int, message: bytes, head: bool, options: ServeOptions, *extra: tuple[str, str]
) -> ResponsePlan:
    """A response with a short text body (errors and refusals)."""
    headers = [
        ("Content-Type", content_type("text/plain", None if options.legacy else "utf-8")),
        ("Content-Length", str(len(message))),
        *extra,
        ("X-Content-Type-Options", "nosniff"),
        *options.extra_headers,
    ]
    return ResponsePlan(status, headers, body=b"" if head else message)


# RFC 9110 §15.4.5: the fields a 304 carries when the 200 would have them (Date: the server's)
_NOT_MODIFIED_FIELDS = frozenset(
    {"cache-control", "content-location", "date", "etag", "expires", "vary"}
)


@lru_cache(maxsize=256)
def _not_modified_extra(
    extra: tuple[tuple[str, str], ...], cors: bool
) -> tuple[tuple[str, str], ...]:
    """The configured extra headers a 304 repeats: all of them for a CORS request (one
    carrying ``Origin``: the browser checks ``Access-Control-*`` on the 304 itself), else
    only the §15.4.5 fields (a cache updates its stored 200 with them; it keeps the
    stored response's other headers)."""
    if cors:
        return extra
    return tuple((name, value) for name, value in extra if name.lower() in _NOT_MODIFIED_FIELDS)


def _not_modified(resource: Resource, options: ServeOptions, cors: bool) -> list[tuple[str, str]]:
    """A 304's headers: §15.4.5 has it repeat the 200's ETag, Cache-Control and Vary, in
    the 200's order (Expires and Content-Location when the extra headers hold them), then
    the other extra headers only for a ``cors`` request (see :func:`_not_modified_extra`).
    Last-Modified only without an ETag (§15.4.5: no other metadata unless it guides the
    cache's update; the ETag names the same state) or in the ``legacy`` contract, which
    always sent it."""
    headers = []
    if resource.etag is not None:
        headers.append(("ETag", f'"{resource.etag}"'))
    cache_control = options.cache_control
    if cache_control is not None:
        headers.append(("Cache-Control", cache_control))
    last_modified = _http_date(resource.mtime)
    if last_modified is not None and (resource.etag is None or options.legacy):
        headers.append(("Last-Modified", last_modified))
    if resource.content_encoding is not None or resource.negotiated:
        headers.append(("Vary", "Accept-Encoding"))
    if options.extra_headers:
        headers.extend(_not_modified_extra(options.extra_headers, cors))
    return headers


def _full_headers(
    resource: Resource,
    options: ServeOptions,
    media_type: str,
    length: int,
    content_range: str | None,
) -> list[tuple[str, str]]:
    """A 200's or 206's headers, genro-storage 0.4.2's five first, then this version's."""
    headers = []
    if resource.etag is not None:
        headers.append(("ETag", f'"{resource.etag}"'))
    headers.append(("Content-Type", media_type))
    headers.append(("Content-Length", str(length)))
    if content_range is not None:
        headers.append(("Content-Range", content_range))
    if options.download or options.download_name is not None:
        headers.append(("Content-Disposition", _disposition(resource, options)))
    cache_control = options.cache_control
    if cache_control is not None:
        headers.append(("Cache-Control", cache_control))
    last_modified = _http_date(resource.mtime)
    if last_modified is not None:
        headers.append(("Last-Modified", last_modified))
    headers.append(("Accept-Ranges", "bytes"))
    if resource.content_encoding is not None:
        headers.append(("Content-Encoding", resource.content_encoding))
    if resource.content_encoding is not None or resource.negotiated:
        headers.append(("Vary", "Accept-Encoding"))
    headers.append(("X-Content-Type-Options", "nosniff"))
    headers.extend(options.extra_headers)
    return headers


_FIELDS = ("if-match", "if-unmodified-since", "if-none-match", "if-modified-since")


def _preconditions(
    request: Mapping[str, str],
) -> tuple[str | None, str | None, str | None, str | None]:
    """The four precondition fields (None when absent); raises :class:`_HeaderError`."""
    get = request.get
    values = (get(_FIELDS[0]), get(_FIELDS[1]), get(_FIELDS[2]), get(_FIELDS[3]))
    for value in values:
        if value is not None and has_crlf_nul(value):
            raise _HeaderError("a precondition field value contains CR, LF or NUL")
    return values


def _requested_ranges(
    method: str, headers: Mapping[str, str], resource: Resource, options: ServeOptions
) -> RangeResult:
    """The ranges to send, :data:`UNSATISFIABLE`, or None for the whole file."""
    range_header = field(headers, "range")
    if_range = field(headers, "if-range")
    # §14.2: Range is defined only for GET; §13.1.5: If-Range is ignored without Range.
    if method != "GET" or range_header is None:
        return None
    if not if_range_holds(if_range, resource.etag, resource.mtime):
        return None
    ranges = parse_range(range_header, resource.size, options.max_ranges)
    if isinstance(ranges, list) and len(ranges) > 1 and resource.content_encoding:
        return None
    return ranges


def plan_response(
    method: str,
    headers: Mapping[str, str],
    resource: Resource | None,
    options: ServeOptions = _DEFAULT_OPTIONS,
) -> ResponsePlan:
    """Decide the response to ``method`` with request ``headers`` for ``resource``.

    Args:
        method: the request method, case-sensitive as in RFC 9110 §9.1 (``"GET"``).
        headers: request headers; names are matched case-insensitively. Build it with
            :func:`~genro_storage.http.headers.headers_from_environ` (WSGI) or
            :func:`~genro_storage.http.headers.headers_from_scope` (ASGI).
        resource: the file's metadata, or None when there is no such file.
        options: download, caching, extra headers, limits, legacy mode.

    Returns:
        The status, headers and body segments; see the module docstring for the rules.
    """
    if method not in ("GET", "HEAD"):
        if not options.legacy:
            return _fixed(405, b"Method Not Allowed", False, options, ("Allow", "GET, HEAD"))
        method = "GET"  # legacy: 0.4.2 served every method alike
    head = method == "HEAD"
    if resource is None:
        return _fixed(404, b"Not Found", head, options)
    request = normalize_headers(headers)
    try:
        im, ius, inm, ims = _preconditions(request)
        outcome = evaluate(
            method, im, ius, inm, ims, resource.etag, resource.mtime, lenient=options.legacy
        )
        ranges = _requested_ranges(method, request, resource, options)
    except _HeaderError:
        return _fixed(400, b"Bad Request", head, options)
    if outcome == "precondition_failed":
        return _fixed(412, b"Precondition Failed", head, options)
    if outcome == "not_modified":
        cors = request.get("origin") is not None
        return ResponsePlan(304, _not_modified(resource, options, cors))
    size = resource.size
    if ranges is UNSATISFIABLE:
        return _fixed(
            416, b"Range Not Satisfiable", head, options, ("Content-Range", f"bytes */{size}")
        )
    media_type = content_type(resource.content_type, None if options.legacy else options.charset)
    content_range = None
    trailer = b""
    parts: tuple[Part, ...] = (Part(0, size),) if size else ()
    if ranges is None:
        status = 200
    elif len(ranges) == 1:
        status, (first, last) = 206, ranges[0]
        content_range = f"bytes {first}-{last}/{size}"
        parts = (Part(first, last + 1),)
    else:
        status = 206
        media_type, parts, trailer = byteranges(ranges, size, media_type, new_boundary())
    length = sum(part.length for part in parts) + len(trailer)
    sent = _full_headers(resource, options, media_type, length, content_range)
    return ResponsePlan(status, sent) if head else ResponsePlan(status, sent, parts, trailer)


def _disposition(resource: Resource, options: ServeOptions) -> str:
    name = resource.filename if options.download_name is None else options.download_name
    return content_disposition("attachment", name)
