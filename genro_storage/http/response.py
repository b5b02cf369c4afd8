"""What the serve core decides: :class:`ResponsePlan`, :class:`Part`, :func:`status_line`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus

__all__ = ["Part", "ResponsePlan", "status_line"]

# RFC 9110 §15 reason phrases, fixed here so they do not change with the Python version
# (HTTPStatus called 416 "Requested Range Not Satisfiable" before 3.13).
_REASONS = {
    200: "OK",
    206: "Partial Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Range Not Satisfiable",
}


@lru_cache(maxsize=64)
def status_line(code: int) -> str:
    """Return the WSGI status string for ``code``, e.g. ``"206 Partial Content"``.

    Raises:
        ValueError: ``code`` is not an HTTP status code Python knows.
    """
    reason = _REASONS.get(code) or HTTPStatus(code).phrase
    return f"{code} {reason}"


@dataclass(frozen=True)
class Part:
    """One segment of the body: ``prefix`` then the file's bytes ``[start, end)``."""

    start: int
    end: int
    prefix: bytes = b""

    @property
    def length(self) -> int:
        """Bytes this segment sends: its prefix plus ``end - start`` file bytes."""
        return len(self.prefix) + self.end - self.start


@dataclass(frozen=True)
class ResponsePlan:
    """The response to send, decided without I/O.

    An adapter sends ``status`` and ``headers``, then ``body`` when it is not empty, or
    else each part (its ``prefix``, then the file's bytes ``start`` to ``end``) followed by
    ``trailer``. For HEAD, ``parts`` and ``body`` are empty while the ``Content-Length``
    header still gives the GET length.

    Attributes:
        status: 200, 206, 304, 400, 404, 405, 412 or 416.
        headers: ``(name, value)`` pairs, latin-1 safe, ready to send. No ``Date``: the
            HTTP server adds it.
        parts: the body's file segments; empty for bodiless responses, fixed bodies and HEAD.
        trailer: the closing multipart boundary, or ``b""``.
        body: a small fixed body (404, 405, 412, 416, 400 messages), or ``b""``.
    """

    status: int
    headers: list[tuple[str, str]]
    parts: tuple[Part, ...] = ()
    trailer: bytes = b""
    body: bytes = b""

    @property
    def content_length(self) -> int:
        """Number of body bytes this plan sends (0 for HEAD and 304)."""
        return len(self.body) + sum(p.length for p in self.parts) + len(self.trailer)

    @property
    def status_line(self) -> str:
        """The WSGI status string, e.g. ``"200 OK"``."""
        return status_line(self.status)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)
