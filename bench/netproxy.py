"""A loopback HTTP/1.1 proxy adding network round trips and injecting faults.

Used by the benchmarks (latency) and by the fault-injection tests (drops, 500/503):

    with NetProxy(target_port, rtt=0.020) as proxy:          # 20 ms per round trip
        endpoint = proxy.endpoint                            # http://127.0.0.1:<port>

    faults = [Fault("503", every=4), Fault("reset", every=7)]
    with NetProxy(target_port, faults=faults) as proxy: ...

Latency: a new connection costs one ``rtt`` (the TCP handshake) and each request one
more ``rtt`` before it reaches the server, as behind a real network (bandwidth is not
limited). The proxy parses request framing (``Content-Length`` or chunked) so that it
knows where each request starts, and relays responses untouched.

Faults (counted over the requests that match, in arrival order, across connections):

- ``"500"`` / ``"503"`` / ``"429"``: the request is read and discarded, the client gets
  that status with an S3-style XML error body (``InternalError``, ``SlowDown``) and the
  connection is closed; the server never sees the request;
- ``"drop"``: the connection is closed before the request is forwarded (no answer);
- ``"reset"``: the request is forwarded, then the connection is aborted after the first
  bytes of the response (a response cut in the middle).

Runs in a thread of its own (its own event loop); stop it with :meth:`stop` or ``with``.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Fault", "NetProxy", "free_port"]

_STATUS = {
    "500": ("500 Internal Server Error", "InternalError", "We encountered an internal error."),
    "503": ("503 Slow Down", "SlowDown", "Please reduce your request rate."),
    "429": ("429 Too Many Requests", "SlowDown", "Please reduce your request rate."),
}


def free_port(first: int = 19700, last: int = 19799, exclude: set[int] | None = None) -> int:
    """A port of ``first..last`` that nobody listens on, on 127.0.0.1."""
    for port in range(first, last + 1):
        if exclude and port in exclude:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port in {first}-{last}")


@dataclass
class Fault:
    """Inject ``kind`` into every ``every``-th matching request (at most ``times`` times).

    ``match`` is a regular expression searched in the request line
    (``"^POST .*[?]uploadId="``: S3 CompleteMultipartUpload), empty for every request.
    ``skip`` leaves the first matching requests alone.
    """

    kind: str
    every: int = 1
    match: str = ""
    times: int | None = None
    skip: int = 0
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in (*_STATUS, "drop", "reset"):
            raise ValueError(f"unknown fault {self.kind!r}")

    def hit(self, request_line: str) -> bool:
        if self.match and not re.search(self.match, request_line):
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.times is not None and self.fired >= self.times):
            return False
        if (self.seen - self.skip) % self.every:
            return False
        self.fired += 1
        return True


class NetProxy:
    """Forward ``127.0.0.1:<port>`` to ``target_host:target_port`` with delay and faults."""

    def __init__(
        self,
        target_port: int,
        *,
        rtt: float = 0.0,
        faults: list[Fault] | None = None,
        port: int | None = None,
        target_host: str = "127.0.0.1",
    ) -> None:
        self.target = (target_host, target_port)
        self.rtt = rtt
        self.faults = list(faults or [])
        self.port = port or free_port(exclude={target_port})
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.open_connections = 0
        self.peak_connections = 0  # the most client connections open at once
        self.injected: dict[str, int] = {}
        self.log: list[str] = []  # "<kind> <request line>" of every fault injected
        self._lock = threading.Lock()
        # every connection's transport, both sides, so that stop() can end them all
        self._transports: weakref.WeakSet[asyncio.WriteTransport] = weakref.WeakSet()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("proxy did not start")

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> NetProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port, limit=1 << 20)
        )
        ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._end_connections())
        self.loop.close()

    async def _end_connections(self) -> None:
        """Cancel the relays, then abort every connection still open, so that no socket
        outlives the proxy (a transport left closing, with bytes queued for a client that
        stopped reading, kept its socket and client: the garbage collector warned about it
        later, in whatever test ran then)."""
        this = asyncio.current_task()
        while tasks := [task for task in asyncio.all_tasks() if task is not this]:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for transport in list(self._transports):
            # Closing with nothing left to write: closed already, or closes next turn.
            # (Aborting one that finished closing raises in asyncio: it dropped its loop.)
            if transport.is_closing() and transport.get_write_buffer_size() == 0:
                continue
            transport.abort()
        await asyncio.sleep(0)  # the aborts close their sockets in the next loop turn

    def stop(self) -> None:
        def shutdown() -> None:
            self.server.close()
            self.loop.stop()

        if self.loop.is_running():
            self.loop.call_soon_threadsafe(shutdown)
            self.thread.join(10)

    # ------------------------------------------------------------------ faults
    def _fault_for(self, request_line: str) -> str | None:
        with self._lock:
            self.requests += 1
            for fault in self.faults:
                if fault.hit(request_line):
                    self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
                    self.log.append(f"{fault.kind} {request_line}")
                    return fault.kind
        return None

    # ------------------------------------------------------------------ relaying
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1  # the proxy's own loop: no lock needed
        self._transports.add(writer.transport)
        self.peak_connections = max(self.peak_connections, self.open_connections)
        try:
            await self._relay(reader, writer)
        except asyncio.CancelledError:  # the proxy stops: connections just end
            writer.transport.abort()
        finally:
            self.open_connections -= 1

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.rtt:
            await asyncio.sleep(self.rtt)  # the TCP handshake
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target, limit=1 << 20)
        except OSError:
            writer.close()
            return
        self._transports.add(up_writer.transport)
        cut = asyncio.Event()  # set: abort the client connection at the next response bytes
        relay = asyncio.ensure_future(self._responses(up_reader, writer, cut))
        try:
            while True:
                head = await self._read_head(reader)
                if head is None:
                    break
                if self.rtt:
                    await asyncio.sleep(self.rtt)
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                fault = self._fault_for(request_line)
                if fault == "drop":
                    writer.transport.abort()
                    break
                if fault in _STATUS:
                    if b"100-continue" not in head.lower():  # else no body comes before
                        await self._forward_body(head, reader, None)  # an interim answer
                    await self._answer(writer, fault)
                    break
                if fault == "reset":
                    cut.set()
                up_writer.write(head)
                await self._forward_body(head, reader, up_writer)
                await up_writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            up_writer.close()
            try:
                await asyncio.wait_for(relay, 30)  # cancelled: the proxy stops, see _handle
            except (asyncio.TimeoutError, OSError):
                relay.cancel()
            writer.close()

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
        try:
            return await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None

    @staticmethod
    async def _forward_body(
        head: bytes, reader: asyncio.StreamReader, out: asyncio.StreamWriter | None
    ) -> None:
        headers = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                data = await reader.readexactly(size + 2) if size else b""
                if out is not None:
                    out.write(size_line + data)
                if not size:
                    trailer = await reader.readuntil(b"\r\n")
                    while trailer != b"\r\n":
                        if out is not None:
                            out.write(trailer)
                        trailer = await reader.readuntil(b"\r\n")
                    if out is not None:
                        out.write(b"\r\n")
                    return
        length = int(headers.get("content-length") or 0)
        while length:
            data = await reader.read(min(length, 1 << 20))
            if not data:
                raise asyncio.IncompleteReadError(b"", length)
            length -= len(data)
            if out is not None:
                out.write(data)
                await out.drain()

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, kind: str) -> None:
        status, code, message = _STATUS[kind]
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>"
        ).encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    @staticmethod
    async def _responses(
        up_reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: asyncio.Event
    ) -> None:
        try:
            while data := await up_reader.read(1 << 16):
                if cut.is_set():
                    writer.write(data[: max(1, len(data) // 2)])
                    await writer.drain()
                    writer.transport.abort()
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
