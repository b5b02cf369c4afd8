"""``bench.netproxy``, the fault and latency proxy of the transfer tests: stopping it ends
every connection it relays.

A CI run once failed an unrelated S3 test on a ResourceWarning: a proxy stopped by an
earlier test had left a client connection half-closed, its socket open, and the garbage
collector reported it later, in whatever test ran then.
"""

from __future__ import annotations

import gc
import socket
import threading
from asyncio import selector_events
from collections.abc import Iterator

import pytest

from bench.netproxy import NetProxy
from tests._procs import free_port

BIG = 32 << 20  # more than the loopback socket buffers hold: the relay waits on the client


@pytest.fixture
def upstream() -> Iterator[int]:
    """A server answering one request with BIG bytes."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG + b"x" * BIG)
            except OSError:
                pass  # the proxy went away
        done.set()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    with listener:
        yield listener.getsockname()[1]
    done.wait(10)


def _open_transports(proxy: NetProxy) -> list[str]:
    gc.collect()
    return [
        repr(t)
        for t in gc.get_objects()
        if isinstance(t, selector_events._SelectorTransport)
        and t._loop is proxy.loop
        and t._sock is not None
    ]


@pytest.mark.parametrize("half_close", [False, True], ids=["reading-stopped", "half-closed"])
def test_stop_ends_a_connection_whose_client_stopped_reading(upstream: int, half_close: bool):
    """The client sends a request, then reads nothing (and, half-closed, sends nothing
    more): the relay has bytes queued for it. After stop() the client sees its connection
    end, and the proxy keeps no socket open."""
    proxy = NetProxy(upstream, port=free_port())
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with client:
        client.connect(("127.0.0.1", proxy.port))
        client.sendall(b"GET / HTTP/1.1\r\nHost: upstream\r\n\r\n")
        deadline = 5.0
        while proxy.open_connections == 0 and deadline > 0:  # the relay has started
            threading.Event().wait(0.05)
            deadline -= 0.05
        threading.Event().wait(0.3)  # ...and filled the socket buffers
        if half_close:
            client.shutdown(socket.SHUT_WR)
            threading.Event().wait(0.1)
        proxy.stop()
        assert not proxy.thread.is_alive()
        assert _open_transports(proxy) == []
        client.settimeout(10)
        received = 0
        try:
            while chunk := client.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass  # an aborted connection: the end the client must see
        assert 0 < received < BIG
