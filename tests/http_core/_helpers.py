"""Test helpers: play a ResponsePlan against in-memory bytes like an adapter would."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message

from genro_storage.http.response import ResponsePlan


def assemble(plan: ResponsePlan, data: bytes) -> bytes:
    """The body an adapter would send for ``plan`` over a file holding ``data``."""
    if plan.body:
        return plan.body
    out = b"".join(part.prefix + data[part.start : part.end] for part in plan.parts)
    return out + plan.trailer


def parse_multipart(plan: ResponsePlan, data: bytes) -> list[Message]:
    """Parse a multipart/byteranges body back with the stdlib email parser."""
    raw = f"Content-Type: {plan.header('Content-Type')}\r\n\r\n".encode() + assemble(plan, data)
    message = message_from_bytes(raw)
    assert message.is_multipart()
    return list(message.get_payload())
