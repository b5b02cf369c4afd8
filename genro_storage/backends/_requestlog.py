"""One DEBUG line per HTTP request (and per retry) of a remote mount, whatever its driver.

botocore emits ``request-created`` for every attempt of every operation, retries included,
with the attempt number in the request context; the handler registered here writes it to
the ``genro_storage`` logger. Nothing is done (not even formatting) unless that logger is
enabled for DEBUG.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = [
    "aiohttp_trace",
    "azure_request_hook",
    "httpx_event_hooks",
    "log_retry",
    "logging_session",
]

log = logging.getLogger("genro_storage")


def logging_session(mount_name: str) -> Any:
    """An aiobotocore session whose clients log each request of mount ``mount_name``."""
    import aiobotocore.session

    session = aiobotocore.session.AioSession()

    def request_created(request: Any, operation_name: str = "", **_: Any) -> None:
        if not log.isEnabledFor(logging.DEBUG):
            return
        attempt = (getattr(request, "context", None) or {}).get("retries", {}).get("attempt", 1)
        retry = f" (retry {attempt - 1})" if attempt > 1 else ""
        log.debug(
            "mount '%s' (s3): %s %s %s%s",
            mount_name,
            operation_name,
            request.method,
            request.url,
            retry,
        )

    session.register("request-created.s3", request_created)
    return session


# ---------------------------------------------------------------------- other drivers
# The same line, ``mount 'NAME' (PROTOCOL): METHOD URL``, for every HTTP request the other
# drivers send, each attempt included: aiohttp (gcsfs, fsspec's HTTP), azure-core (adlfs),
# httpx (webdav4). Retries the drivers make themselves are logged where they decide them.


def _log_request(mount_name: str, protocol: str, method: str, url: Any, note: str = "") -> None:
    log.debug("mount '%s' (%s): %s %s%s", mount_name, protocol, method, url, note)


def aiohttp_trace(mount_name: str, protocol: str) -> Any:
    """An ``aiohttp.TraceConfig`` logging each request a session sends (``trace_configs``)."""
    import aiohttp

    async def on_request_start(_session: Any, _context: Any, params: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            _log_request(mount_name, protocol, params.method, params.url)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    return trace


def azure_request_hook(mount_name: str) -> Any:
    """An azure-core ``raw_request_hook``: it runs for every attempt (after the retry policy)."""

    def hook(request: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            http = request.http_request
            _log_request(mount_name, "az", http.method, http.url)

    return hook


def httpx_event_hooks(mount_name: str, protocol: str) -> dict[str, list[Any]]:
    """httpx ``event_hooks`` logging each request a client sends."""

    def on_request(request: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            _log_request(mount_name, protocol, request.method, request.url)

    return {"request": [on_request]}


def log_retry(mount_name: str, protocol: str, attempt: int, reason: str, wait: float) -> None:
    """One DEBUG line per retry a driver decides itself (Azure's retry policy...)."""
    log.debug(
        "mount '%s' (%s): retry %d after %s (waiting %.2f s)",
        mount_name,
        protocol,
        attempt,
        reason,
        wait,
    )
