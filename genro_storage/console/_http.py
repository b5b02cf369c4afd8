"""The console's small ASGI toolkit: the request it reads, the responses it sends."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from ..http.headers import headers_from_scope
from ..serving.asgi import Receive, Scope, Send

__all__ = ["HTTPError", "Request", "read_json", "send_bytes", "send_json"]

MAX_JSON_BODY = 1024 * 1024
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


class HTTPError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """What the console reads from an ASGI HTTP scope."""

    scope: Scope
    receive: Receive
    send: Send
    method: str = ""
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    query_string: str = ""

    @classmethod
    def from_scope(cls, scope: Scope, receive: Receive, send: Send) -> Request:
        root = scope.get("root_path", "")
        path = scope["path"]
        if root and path.startswith(root):
            path = path[len(root) :]
        query_string = scope.get("query_string", b"").decode("latin-1")
        return cls(
            scope,
            receive,
            send,
            scope.get("method", "GET"),
            path,
            headers_from_scope(scope),
            parse_qs(query_string, keep_blank_values=True),
            query_string,
        )

    @property
    def host(self) -> str:
        server = self.scope.get("server") or ("localhost", 80)
        return self.headers.get("host") or f"{server[0]}:{server[1]}"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def need(self, name: str) -> str:
        value = self.arg(name)
        if value is None:
            raise HTTPError(400, f"missing query parameter {name!r}")
        return value


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (at most :data:`MAX_JSON_BODY` bytes)."""
    body = bytearray()
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "client disconnected")
        body += message.get("body", b"")
        if len(body) > MAX_JSON_BODY:
            raise HTTPError(413, "JSON body too large")
        if not message.get("more_body"):
            break
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise HTTPError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return data


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """A whole response in two messages."""
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(
    send: Send, data: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()
) -> None:
    body = json.dumps(data, separators=(",", ":")).encode("utf-8")
    await send_bytes(send, status, body, "application/json", headers)
