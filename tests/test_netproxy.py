"""``bench.netproxy``, the fault and latency proxy of the transfer tests: stopping it ends
every connection it relays.

A CI run once failed an unrelated S3 test on a ResourceWarning: a proxy stopped by an
earlier test had left a client connection half-closed, its socket open, and the garbage
collector reported it later, in whatever test ran then.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bench.netproxy import NetProxy
from tests._procs import free_port

BIG = 32 << 20  # more than the loopback socket buffers hold: the relay waits on the client


@pytest.fixture
def upstream() -> Iterator[tuple[int, threading.Event]]:
    """A server answering one request with BIG bytes; the event is set once its send
    ends, whole or refused: with the proxy's upstream connection closed, it cannot block."""
    listener = socket.create_server(("127.0.0.1", 0))
    ended = threading.Event()

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG + b"x" * BIG)
            except OSError:
                pass  # the proxy closed its side
        ended.set()

    threading.Thread(target=answer, daemon=True).start()
    with listener:
        yield listener.getsockname()[1], ended


@pytest.mark.parametrize("half_close", [False, True], ids=["reading-stopped", "half-closed"])
def test_stop_ends_a_connection_whose_client_stopped_reading(
    upstream: tuple[int, threading.Event], half_close: bool
) -> None:
    """The client sends a request, then reads nothing (and, half-closed, sends nothing
    more): the relay has bytes queued for it. After stop() both connections of the proxy
    are closed: the client sees its connection end, the server's send stops blocking."""
    port, upstream_ended = upstream
    proxy = NetProxy(port, port=free_port())
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with client:
        client.connect(("127.0.0.1", proxy.port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: upstream\r\n\r\n")
        deadline = time.monotonic() + 5
        while proxy.open_connections == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the relay fills the socket buffers
        if half_close:  # the proxy then closes its upstream side itself
            client.shutdown(socket.SHUT_WR)
            time.sleep(0.1)
        else:
            assert not upstream_ended.is_set()  # the server's send is blocked
        proxy.stop()
        assert not proxy.thread.is_alive()
        client.settimeout(10)
        received = 0
        try:
            while chunk := client.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass  # an aborted connection: the end the client must see
        assert 0 < received < BIG
        assert upstream_ended.wait(10), "the proxy kept its upstream connection open"


def test_stop_leaves_alone_a_connection_that_closed_after_its_last_bytes() -> None:
    """A connection closed with bytes still queued closes itself once they are written;
    if a reference cycle (a traceback the collector has not reached) still holds its
    transport, it is in the proxy's weak set at stop(). Aborting it raised in asyncio,
    in the proxy's thread (a CI run saw it): stop() leaves such a transport alone.

    The state is made on the proxy's own loop, with a peer that reads nothing until the
    transport has closed with a full queue."""
    import asyncio

    proxy = NetProxy(free_port(), port=free_port())
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:

        async def closed_with_a_queue() -> asyncio.Transport:
            transport, _ = await proxy.loop.create_connection(
                asyncio.Protocol, *listener.getsockname()
            )
            transport.write(b"x" * (32 << 20))  # more than the socket buffers hold
            transport.close()  # closing, bytes still queued
            return transport

        held = asyncio.run_coroutine_threadsafe(closed_with_a_queue(), proxy.loop).result(10)
        peer, _ = listener.accept()
        with peer:
            assert held.get_write_buffer_size() > 0
            proxy._transports.add(held)
            peer.settimeout(10)
            while peer.recv(1 << 20):
                pass  # every byte read: the transport closes itself
    deadline = time.monotonic() + 5
    while held.get_write_buffer_size() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # its connection_lost runs on the proxy's loop
    errors: list[BaseException] = []
    hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)  # type: ignore[assignment]
    try:
        proxy.stop()
    finally:
        threading.excepthook = hook
    assert not proxy.thread.is_alive()
    assert errors == []
