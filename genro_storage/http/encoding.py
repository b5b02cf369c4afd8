"""Choosing a precompressed variant from ``Accept-Encoding`` (RFC 9110 §12.5.3).

A file ``app.js`` may have siblings ``app.js.br`` and ``app.js.gz``. The adapter lists the
encodings whose sibling exists, asks :func:`choose_encoding`, and serves the chosen sibling
as a :class:`~genro_storage.http.resource.Resource` with ``content_encoding`` set (and
``negotiated=True`` on every variant, identity included, so ``Vary`` is sent).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable

from ._text import OWS, is_digits

__all__ = [
    "ENCODING_SUFFIXES",
    "choose_encoding",
    "media_type_of",
    "parse_accept_encoding",
    "variant_path",
]

ENCODING_SUFFIXES: dict[str, str] = {"br": ".br", "gzip": ".gz"}
"""Content coding -> suffix of the precompressed sibling file, in server preference order."""

# RFC 9110 §8.4.1.3: recipients SHOULD treat x-gzip as gzip.
_ALIASES = {"x-gzip": "gzip"}
_MAX_ITEMS = 64  # real headers list a handful of codings; the rest of a huge one is dropped


def variant_path(path: str, encoding: str) -> str:
    """Return the path of the sibling holding ``path`` encoded with ``encoding``.

    Raises:
        KeyError: ``encoding`` has no known suffix.
    """
    return path + ENCODING_SUFFIXES[encoding]


def _qvalue(params: list[str]) -> float | None:
    """The q weight among ``params`` (§12.4.2), 1.0 without one, None if malformed."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip(OWS).lower() != "q":
            continue
        value = value.strip(OWS)
        # qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        whole, _, fraction = value.partition(".")
        digits = not fraction or is_digits(fraction)
        if whole not in ("0", "1") or len(fraction) > 3 or not digits:
            return None
        if whole == "1" and fraction.strip("0"):
            return None
        return float(f"{whole}.{fraction or '0'}")
    return 1.0


def parse_accept_encoding(header: str) -> dict[str, float]:
    """Parse ``Accept-Encoding`` into ``{coding: q}`` (lower-case; malformed items skipped).

    When a coding appears twice the first occurrence wins; only the first 64 items count.
    """
    weights: dict[str, float] = {}
    for item in header.split(",", _MAX_ITEMS)[:_MAX_ITEMS]:
        coding, *params = item.split(";")
        coding = coding.strip(OWS).lower()
        if not coding:
            continue
        q = _qvalue(params)
        if q is not None:
            weights.setdefault(_ALIASES.get(coding, coding), q)
    return weights


def choose_encoding(accept_encoding: str | None, available: Iterable[str]) -> str | None:
    """Pick the best of ``available`` codings for ``accept_encoding``, or None (identity).

    * no header: None. RFC 9110 would allow any coding, but clients that send nothing
      (curl, scripts) expect the plain file, as with every common static server;
    * ``q=0`` refuses a coding; ``*`` weighs every coding not named;
    * the highest q wins, ties go to the order of ``available`` (put ``br`` first);
    * identity wins when it is named with a higher q than the best coding.

    If identity is refused too (``identity;q=0``) and nothing fits, None is still returned:
    sending the plain file beats a 406 for a static file.
    """
    if accept_encoding is None:
        return None
    weights = parse_accept_encoding(accept_encoding)
    default = weights.get("*", 0.0)
    best: str | None = None
    best_q = 0.0
    for coding in available:
        q = weights.get(coding.lower(), default)
        if q > best_q:
            best, best_q = coding, q
    if best is not None and weights.get("identity", 0.0) > best_q:
        return None
    return best


# A file fetched by its own name that *is* compressed data: ``x.css.gz`` is a gzip file,
# not a stylesheet. RFC 9110 §8.3: Content-Type names the media type of the representation
# (§8.4: once its Content-Encoding, if any, is undone), so ``text/css; charset=utf-8``
# for gzip bytes would be false. We send the archive's own type and no Content-Encoding,
# as whitenoise and nginx do (no ``Content-Encoding``) and werkzeug does for downloads:
# a browser then saves ``data.csv.gz`` as the gzip file it is instead of inflating it
# under the same name. Precompressed siblings (``x.css`` asked, ``x.css.gz`` sent) are
# the negotiated path of :func:`choose_encoding`, not this one.
_COMPRESSED_TYPES = {
    "gzip": "application/gzip",  # RFC 6713
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
}
# ...but a few suffixes name a media type *and* its coding: SVG 1.1 §1.2 (and Apache's
# ``AddEncoding gzip svgz``) serve ``.svgz`` as ``image/svg+xml`` with
# ``Content-Encoding: gzip``, so a browser renders it (nginx and whitenoise send no
# Content-Encoding, and the image does not display).
_CODED_SUFFIXES = {".svgz": ("image/svg+xml", "gzip")}


def media_type_of(name: str) -> tuple[str, str | None]:
    """The ``Content-Type`` and ``Content-Encoding`` of the file ``name`` sent as it is.

    ``"a.css"`` -> ``("text/css", None)``; ``"a.css.gz"`` -> ``("application/gzip",
    None)``; ``"a.svgz"`` -> ``("image/svg+xml", "gzip")``; unknown -> octet-stream.
    """
    lowered = name.lower()
    for suffix, typed in _CODED_SUFFIXES.items():
        if lowered.endswith(suffix):
            return typed
    media, coding = mimetypes.guess_type(lowered, strict=False)
    if coding is not None:
        return _COMPRESSED_TYPES.get(coding, "application/octet-stream"), None
    return media or "application/octet-stream", None
