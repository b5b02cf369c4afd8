"""Who sends the bytes: :class:`Delivery` policies, and the small answers they need.

``stream`` leaves it to the adapters; ``redirect`` answers 302 with a presigned URL;
``x-accel-redirect`` and ``x-sendfile`` hand a local file to the front server (nginx,
Apache, lighttpd), which then does Range and validators itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from .core import plan_response
from .options import ServeOptions
from .resource import Resource
from .response import ResponsePlan

__all__ = ["DELIVERY_MODES", "Delivery", "offload_plan", "redirect_plan", "simple_plan"]

DELIVERY_MODES = ("stream", "redirect", "x-accel-redirect", "x-sendfile")
OFFLOAD_MODES = ("x-accel-redirect", "x-sendfile")
# Headers a front server keeps from our answer when it serves the file itself.
_OFFLOAD_KEPT = ("Content-Type", "Content-Disposition", "Cache-Control")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Delivery:
    """How a mount's bytes reach the client.

    Attributes:
        mode: ``stream`` (through the app), ``redirect`` (302 to ``node.url(expires_in)``,
            a presigned URL on S3/GCS/Azure; streams when the backend has none),
            ``x-accel-redirect`` (nginx) or ``x-sendfile`` (Apache, lighttpd): the front
            server sends the local file (streams for non-local mounts).
        expires_in: lifetime in seconds of presigned redirect URLs.
        accel_prefix: the nginx ``internal`` location that maps to the mount root.
        precompressed: look for ``.br``/``.gz`` siblings of text-like files.
    """

    mode: str = "stream"
    expires_in: int = 3600
    accel_prefix: str = "/_protected/"
    precompressed: bool = True

    def __post_init__(self) -> None:
        if self.mode not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {', '.join(DELIVERY_MODES)}: {self.mode!r}")
        if isinstance(self.expires_in, bool) or not isinstance(self.expires_in, int):
            raise ValueError(f"expires_in must be an int of seconds, got {self.expires_in!r}")
        if self.expires_in <= 0:
            raise ValueError(f"expires_in must be > 0, got {self.expires_in}")
        if not (self.accel_prefix.startswith("/") and self.accel_prefix.endswith("/")):
            raise ValueError(f"accel_prefix must start and end with '/': {self.accel_prefix!r}")


def simple_plan(
    status: int, message: str, options: ServeOptions, head: bool = False, *extra: tuple[str, str]
) -> ResponsePlan:
    """A short ``text/plain`` answer (403, 404, redirects) with the configured extra headers."""
    body = message.encode("utf-8")
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        *extra,
        ("X-Content-Type-Options", "nosniff"),
        *options.extra_headers,
    ]
    return ResponsePlan(status, headers, body=b"" if head else body)


def redirect_plan(url: str, head: bool, options: ServeOptions) -> ResponsePlan:
    """A 302 to ``url`` (a presigned URL)."""
    # The URL expires: no cache may keep the redirect (RFC 9111 §5.2.2.5).
    extra = (("Location", url), ("Cache-Control", "no-store"))
    return simple_plan(302, f"Found: {url}", options, head, *extra)


def offload_plan(
    path: str, os_path: str, resource: Resource, options: ServeOptions, delivery: Delivery
) -> ResponsePlan | None:
    """Hand a local file to the front server, which then does Range and validators itself.

    Preconditions are not evaluated here: the front server compares the client's
    validators with its own ETag/Last-Modified, which are the ones the client has seen.
    """
    full = plan_response("GET", {}, resource, options)
    kept = [(k, v) for k, v in full.headers if k in _OFFLOAD_KEPT]
    if delivery.mode == "x-accel-redirect":
        target = delivery.accel_prefix + quote(path, safe="/")
        kept.append(("X-Accel-Redirect", target))
    elif _CONTROL.search(os_path):
        return None  # a header cannot carry it: stream instead
    else:
        # PEP 3333: header values are latin-1 str; the server sends the path's UTF-8 bytes.
        kept.append(("X-Sendfile", os_path.encode("utf-8", "surrogateescape").decode("latin-1")))
    kept.extend(options.extra_headers)
    return ResponsePlan(200, kept)
