"""Real servers for the HTTP tests: free loopback ports, start a process, stop it by PID.

Ports come from ``GENRO_TEST_PORTS`` (``first-last``, default ``19710-19789``) so test
servers stay out of the ranges other runs and services use. Under pytest-xdist each worker
(``PYTEST_XDIST_WORKER`` ``gwN`` of ``PYTEST_XDIST_WORKER_COUNT``) owns its own slice of
that range, so two workers never race for a port. Within a slice ports are handed out in
turn, each only after a bind succeeds (a port still listening or in TIME_WAIT is passed
over), and one comes round again only after every other port of the slice.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_given: set[int] = set()  # ports handed out since the slice last came round
_turn = 0  # where the next search starts in the slice
MIN_PORTS_PER_WORKER = 16


def open_fds() -> set[str]:
    """This process's open descriptors (Linux). A leak check compares them as sets and
    looks at new ones only: a finalizer, or a thread a former test left, may close one
    meanwhile (a whole run once counted 61 after 62)."""
    return set(os.listdir("/proc/self/fd"))


def _port_range() -> range:
    """This process's ports: ``GENRO_TEST_PORTS``, or its xdist worker's slice of it."""
    first, _, last = os.environ.get("GENRO_TEST_PORTS", "19710-19789").partition("-")
    ports = range(int(first), int(last) + 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return ports
    index, size = int(worker[2:]), len(ports) // count
    # a stopped server's port stays in TIME_WAIT (unbindable here) for a minute: a worker
    # starting servers one after another needs room (10 ports per worker ran out)
    if size < MIN_PORTS_PER_WORKER or index >= count:
        pytest.fail(
            f"GENRO_TEST_PORTS {first}-{last} is too small for {count} xdist workers"
            f" (at least {MIN_PORTS_PER_WORKER} ports each)"
        )
    return ports[index * size : (index + 1) * size]


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(prefer: int | None = None) -> int:
    """A loopback port of this process's range nothing listens on (``prefer`` first when
    it is free and in the range)."""
    global _turn
    ports = _port_range()
    if prefer in ports and prefer not in _given and _bindable(prefer):
        _given.add(prefer)
        return prefer
    for _round in range(2):  # a second round forgets the ports given so far
        for step in range(len(ports)):
            port = ports[(_turn + step) % len(ports)]
            if port in _given or not _bindable(port):
                continue
            _given.add(port)
            _turn = (_turn + step + 1) % len(ports)
            return port
        _given.clear()
    pytest.fail(f"no free port in {ports.start}-{ports.stop - 1} (GENRO_TEST_PORTS)")


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server {proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"server {proc.args!r} did not listen on {port} within {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process we started (by its PID), SIGKILL if it lingers."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextmanager
def server(args: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run ``args`` (a server listening on ``port``) for the duration of the block."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    log = open(os.devnull, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(list(args), cwd=ROOT, env=full_env, stdout=log, stderr=log)
    try:
        wait_for_port(port, proc)
        yield proc.pid
    finally:
        stop(proc)
        log.close()


def gunicorn_args(app: str, port: int, threads: int = 8) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning", app,
    ]  # fmt: skip


def granian_args(app: str, port: int) -> list[str]:
    """Granian (a Rust HTTP server; ASGI with the ``pathsend`` extension), one worker."""
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "1", "--no-ws", "--log-level", "warning", app,
    ]  # fmt: skip


def uvicorn_args(app: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log", app,
    ]  # fmt: skip


def popen_for_ctrl_c(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[str]:
    """Start a child that a test will stop with SIGINT, as Ctrl-C in a terminal does.

    A child inherits an *ignored* SIGINT (a caught one is reset by exec): a run started in
    the background by a non-interactive shell has it ignored, and so may a worker after
    some library changed it. Python then installs no KeyboardInterrupt handler and the
    child ignores Ctrl-C (the demo tests once waited 30 s each for it). The worker catches
    SIGINT (Python's handler) while the child starts, so it starts with the default.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(args, text=True, **kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)


def ctrl_c(proc: subprocess.Popen[str], timeout: float, name: str) -> int:
    """Send ``proc`` what Ctrl-C sends and return its exit status; fail the test, naming its
    signal state, if it is still running after ``timeout`` seconds (then it is killed)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"Ctrl-C did not stop {name} in {timeout:g} s ({signal_state(proc.pid)})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def signal_state(pid: int) -> str:
    """The signal lines of ``/proc/PID/status`` (ignored, blocked, caught), for a failure."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"no /proc/{pid}/status: {exc}"
    return " ".join(line for line in lines if line.startswith(("SigIgn", "SigBlk", "SigCgt")))
