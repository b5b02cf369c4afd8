"""Per-call serving choices: :class:`ServeOptions`."""

from __future__ import annotations

from dataclasses import dataclass

from ._text import has_crlf_nul, is_token

__all__ = ["ServeOptions"]

# These frame the message; letting a caller add a second copy would corrupt the response.
_FRAMING = frozenset({"content-length", "content-range", "transfer-encoding"})


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: download, caching, extra headers, limits and legacy mode.

    Attributes:
        download: send ``Content-Disposition: attachment`` (also implied by
            ``download_name``).
        download_name: the file name offered to the browser instead of the resource's.
        cache_max_age: seconds for ``Cache-Control: max-age=N``; None sends
            ``cache_control_default``.
        immutable: add ``, immutable`` to Cache-Control (only with ``cache_max_age``).
        cache_control_default: the Cache-Control sent without ``cache_max_age``
            (``"no-cache"``; None: no header). See :attr:`cache_control`.
        extra_headers: ``(name, value)`` pairs added to every response, 304, 404 and 416
            included (CORS headers, for instance).
        max_ranges: a Range header asking for more ranges than this is ignored (200).
        charset: added to text types (see :func:`genro_storage.http.core.content_type`).
        legacy: reproduce genro-storage 0.4.2's ``serve()`` where it differs (see
            :mod:`genro_storage.http.core`).

    Raises:
        ValueError: a negative ``cache_max_age``, ``max_ranges`` below 1, a charset or
            header name that is not a token, a header value with CR/LF/NUL or non-latin-1
            characters, or an extra header that frames the body (Content-Length, ...).
    """

    download: bool = False
    download_name: str | None = None
    cache_max_age: int | None = None
    immutable: bool = False
    extra_headers: tuple[tuple[str, str], ...] = ()
    max_ranges: int = 16
    charset: str = "utf-8"
    legacy: bool = False
    cache_control_default: str | None = "no-cache"

    def __post_init__(self) -> None:
        if self.cache_max_age is not None and (
            not isinstance(self.cache_max_age, int) or self.cache_max_age < 0
        ):
            raise ValueError(f"cache_max_age must be an int >= 0, got {self.cache_max_age!r}")
        if not isinstance(self.max_ranges, int) or self.max_ranges < 1:
            raise ValueError(f"max_ranges must be an int >= 1, got {self.max_ranges!r}")
        default = self.cache_control_default
        if default is not None and (not isinstance(default, str) or has_crlf_nul(default)):
            raise ValueError(f"cache_control must be a str without CR/LF/NUL, got {default!r}")
        if not is_token(self.charset):
            raise ValueError(f"charset must be a token, got {self.charset!r}")
        # Accept a list for convenience but keep the frozen object hashable.
        object.__setattr__(self, "extra_headers", tuple(tuple(p) for p in self.extra_headers))
        for name, value in self.extra_headers:
            _check_extra_header(name, value)

    @property
    def cache_control(self) -> str | None:
        """The ``Cache-Control`` value these options send (None: the header is not sent).

        ``max-age=N[, immutable]`` with ``cache_max_age``; else ``cache_control_default``,
        ``no-cache``: without any freshness information a cache may reuse a response for
        a heuristic time (RFC 9111 §4.2.2, typically a tenth of its age since
        Last-Modified), which shows a stale copy of a file that was just replaced.
        ``no-cache`` (§5.2.2.4) still lets every cache store the file but makes it ask
        first, and the ETag makes that a cheap 304 (werkzeug's ``send_file`` default
        too). Legacy mode (0.4.2's ``serve()``) sends none, as 0.4.2 did.
        """
        if self.cache_max_age is None:
            return None if self.legacy else (self.cache_control_default or None)
        immutable = ", immutable" if self.immutable else ""
        return f"max-age={self.cache_max_age}{immutable}"


def _check_extra_header(name: str, value: str) -> None:
    if not isinstance(name, str) or not is_token(name):
        raise ValueError(f"extra header name must be a token, got {name!r}")
    if name.lower() in _FRAMING:
        raise ValueError(f"extra header {name!r} would corrupt the response framing")
    if not isinstance(value, str) or has_crlf_nul(value):
        raise ValueError(f"extra header {name!r} value must be a str without CR/LF/NUL")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"extra header {name!r} value must be latin-1 text") from None
