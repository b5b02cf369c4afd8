"""Real servers for the integration tests: a free port of GENRO_TEST_PORTS, start, wait, stop.

Every server is a subprocess of the test, started with its own environment (no
DJANGO_SETTINGS_MODULE or other leftovers of the test process) and stopped by its PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests import _procs

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A port of ``GENRO_TEST_PORTS`` (this xdist worker's slice) nobody listens on."""
    return _procs.free_port()


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "GENRO_STORAGE", "PYTEST_", "COV_"))
    }
    env["PYTHONPATH"] = str(REPO)
    if os.environ.get("GENRO_DJANGO42_CHILD"):  # the Django 4.2 pass: its servers too
        env["PYTHONPATH"] = os.environ.get("PYTHONPATH") or str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@contextlib.contextmanager
def running(
    argv: list[str],
    port: int,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path,
    timeout: float = 30.0,
) -> Iterator[str]:
    """Start ``argv``, wait until ``127.0.0.1:port`` accepts, yield its base URL, stop it."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=cwd or REPO,
            env=clean_env(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited {proc.returncode}:\n{log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    message = f"{argv} did not listen in {timeout}s:\n{log.read_text()}"
                    raise RuntimeError(message) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (its workers too), SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def gunicorn(app: str, port: int, *extra: str) -> list[str]:
    return [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", *extra, app]


def uvicorn(app: str, port: int, *extra: str) -> list[str]:
    return [
        str(BIN / "uvicorn"), "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", *extra, app,
    ]  # fmt: skip
