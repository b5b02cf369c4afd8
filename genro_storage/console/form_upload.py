"""``POST /api/upload``: a ``multipart/form-data`` body, each file part streamed to a mount.

For HTML forms and ``curl -F file=@big.iso``: the body is parsed as it arrives
(python-multipart's streaming parser, fed from a worker thread) and each file part is
written with ``StorageNode.open('wb')`` into the folder ``path``, under its own file
name. Nothing is held in memory; a part that fails (or a client that disconnects) is
discarded by the writer, which publishes only on a clean close.
"""

from __future__ import annotations

import posixpath
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, Any

from ._http import HTTPError
from .actions import clean_name, entry_dict

if TYPE_CHECKING:
    from .actions import Actions

__all__ = ["ClientGone", "receive_form"]


class ClientGone(Exception):
    """The client went away in the middle of an upload: nothing is published."""


def _filename(disposition: bytes) -> str | None:
    from python_multipart.multipart import parse_options_header

    _, params = parse_options_header(disposition)
    raw = params.get(b"filename*") or params.get(b"filename")
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    if text.lower().startswith("utf-8''"):
        from urllib.parse import unquote

        text = unquote(text[7:])
    return text.replace("\\", "/").rsplit("/", 1)[-1]  # some browsers send a full path


class _FormWriter:
    """python-multipart callbacks writing each file part to ``mount:folder/<name>``."""

    def __init__(self, actions: Actions, mount: str, folder: str, overwrite: bool) -> None:
        self.actions, self.mount, self.folder, self.overwrite = actions, mount, folder, overwrite
        self.headers: dict[bytes, bytes] = {}
        self.field = bytearray()
        self.value = bytearray()
        self.handle: IO[bytes] | None = None
        self.node: Any = None
        self.written = 0
        self.saved: list[dict[str, Any]] = []

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self.field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers = {}

    def header_end(self) -> None:
        self.headers[bytes(self.field).lower()] = bytes(self.value)
        self.field.clear()
        self.value.clear()

    def headers_finished(self) -> None:
        name = _filename(self.headers.get(b"content-disposition", b""))
        if not name:  # a plain form field: ignored
            return
        path = posixpath.join(self.folder, clean_name(name))
        node = self.actions.node(self.mount, path)
        if not self.overwrite and node.exists:
            raise HTTPError(409, f"{node.fullpath} already exists (overwrite=1 replaces it)")
        self.node, self.written = node, 0
        self.handle = node.open("wb")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.handle is not None:
            self.handle.write(data[start:end])
            self.written += end - start

    def part_end(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            handle.close()
            self.saved.append(entry_dict(self.node.stat()) | {"written": self.written})

    def abort(self) -> None:
        """Discard the part being written (the writer publishes only on a clean close)."""
        if self.handle is not None:
            handle, self.handle = self.handle, None
            failure = ClientGone("upload aborted")
            handle.__exit__(ClientGone, failure, None)  # an exiting error: discard


def receive_form(
    actions: Actions,
    mount: str,
    folder: str,
    overwrite: bool,
    content_type: str,
    next_message: Callable[[], Awaitable[dict[str, Any]]],
    from_thread: Callable[..., Any],
) -> list[dict[str, Any]]:
    """Parse the form body (blocking: run it in a worker thread); returns the saved files."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise HTTPError(415, "POST /api/upload takes multipart/form-data (or PUT a raw body)")
    writer = _FormWriter(actions, mount, folder, overwrite)
    parser = MultipartParser(boundary, writer.callbacks())  # type: ignore[arg-type]
    try:
        while True:
            message = from_thread(next_message)
            if message["type"] == "http.disconnect":
                raise ClientGone(f"{mount}:{folder}")
            body = message.get("body", b"")
            if body:
                parser.write(body)
            if not message.get("more_body"):
                break
        parser.finalize()
    except BaseException:
        writer.abort()
        raise
    if writer.handle is not None:  # the body ended inside a part
        writer.abort()
        raise HTTPError(400, "the multipart body ended in the middle of a file")
    return writer.saved
