"""Real servers for the HTTP tests: free loopback ports, start a process, stop it by PID.

Ports come from ``GENRO_TEST_PORTS`` (``first-last``, default ``19710-19789``) so test
servers stay out of the ranges other runs and services use; a port is handed out once per
test session and only after a bind succeeds.
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

import pytest

ROOT = Path(__file__).resolve().parents[1]
_given: set[int] = set()


def _port_range() -> range:
    first, _, last = os.environ.get("GENRO_TEST_PORTS", "19710-19789").partition("-")
    return range(int(first), int(last) + 1)


def free_port(prefer: int | None = None) -> int:
    """A loopback port nothing listens on (``prefer`` first when it is free)."""
    candidates = ([prefer] if prefer else []) + list(_port_range())
    for port in candidates:
        if port in _given:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    pytest.fail("no free port in GENRO_TEST_PORTS")


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
