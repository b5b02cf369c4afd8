"""One DEBUG line per HTTP request (and per retry) of a botocore-based mount (S3).

botocore emits ``request-created`` for every attempt of every operation, retries included,
with the attempt number in the request context; the handler registered here writes it to
the ``genro_storage`` logger. Nothing is done (not even formatting) unless that logger is
enabled for DEBUG.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["logging_session"]

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
