"""Which failures are worth another attempt, and the backoff between attempts.

A failure is *transient* when trying again may succeed: a connection refused, reset or
timed out, a response cut short, HTTP 429/500/502/503/504, S3 ``SlowDown`` /
``InternalError``. Not found, refused credentials, bad input and the like are not.
The whole chain of causes is looked at, because drivers re-raise (s3fs turns a
``ClientError`` into an ``OSError``, our backends into :mod:`genro_storage.errors`).

Attempts wait with exponential backoff and full jitter (tenacity's
``wait_random_exponential``): a random delay up to 0.1 s, 0.2 s, 0.4 s... capped at 5 s.
"""

from __future__ import annotations

import errno
import functools
import logging
import random
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # tenacity loads on the first retry loop built (it imports tornado
    # when installed: 50-70 ms that a local-only command does not need)
    from tenacity import AsyncRetrying, RetryCallState, Retrying

from ..errors import StorageAuthError, StorageConfigError, StorageConnectionError

__all__ = ["async_retrying", "backoff_seconds", "http_status", "is_transient", "retrying"]

T = TypeVar("T")

_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
_TRANSIENT_CODES = {
    "InternalError",
    "SlowDown",
    "ServiceUnavailable",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServerBusy",  # Azure
    "OperationTimedOut",
    "InternalServerError",
    "TooManyRequests",
}
_TRANSIENT_CLASSES = {
    # botocore
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectionClosedError",
    "ResponseStreamingError",
    "IncompleteReadError",
    # urllib3 / http.client / requests
    "ProtocolError",
    "IncompleteRead",
    "ChunkedEncodingError",
    "RemoteDisconnected",
    # aiohttp
    "ClientPayloadError",
    "ServerDisconnectedError",
    "ClientConnectorError",
    "ClientOSError",
    "ServerTimeoutError",
    "ContentLengthError",
    # azure-core
    "ServiceRequestError",
    "ServiceResponseError",
    # fsspec
    "FSTimeoutError",
}
_NEVER = (StorageAuthError, StorageConfigError, PermissionError, ValueError, NotImplementedError)
_TRANSIENT_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
}


def http_status(exc: BaseException) -> int | None:
    """The HTTP status a client-library error carries (``status_code``/``status``/``code``,
    its response's, or a botocore ``ClientError``'s ``ResponseMetadata``), else None."""
    for attr in ("status_code", "status", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        meta = response.get("ResponseMetadata") or {}
        value = meta.get("HTTPStatusCode")
        return value if isinstance(value, int) else None
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return str(getattr(exc, "error_code", "") or "")


def _one_transient(exc: BaseException) -> bool | None:
    """True / False when ``exc`` alone decides, None to look at its cause."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _TRANSIENT_CLASSES:
        return True
    if _error_code(exc) in _TRANSIENT_CODES:
        return True
    status = http_status(exc)
    if status is not None:
        return status in _TRANSIENT_STATUS
    if isinstance(exc, (StorageConnectionError, ConnectionError, TimeoutError)):
        return True
    asyncio = sys.modules.get("asyncio")  # not imported: no asyncio timeout can exist
    if asyncio is not None and isinstance(exc, asyncio.TimeoutError):
        return True
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    if isinstance(exc, _NEVER):
        return False
    return None


def is_transient(exc: BaseException, depth: int = 8) -> bool:
    """Whether another attempt may succeed where ``exc`` failed."""
    current: BaseException | None = exc
    while current is not None and depth > 0:
        verdict = _one_transient(current)
        if verdict is not None:
            return verdict
        text = str(current)
        if any(code in text for code in ("SlowDown", "InternalError", "ServiceUnavailable")):
            return True
        current = current.__cause__ or current.__context__
        depth -= 1
    return False


#: the backoff of every retry loop: a random wait up to FIRST_WAIT s, doubling, capped
FIRST_WAIT = 0.1
MAX_WAIT = 5.0


def backoff_seconds(retry: int) -> float:
    """The wait before retry number ``retry`` (1: the first), for drivers whose retry loop
    is their own: the policy of :func:`retrying`, full jitter included."""
    return random.uniform(0, min(MAX_WAIT, FIRST_WAIT * 2 ** max(0, retry - 1)))


def _wait() -> Any:
    from tenacity import wait_random_exponential

    return wait_random_exponential(multiplier=FIRST_WAIT, max=MAX_WAIT)


log = logging.getLogger("genro_storage")


def _log_retry(state: RetryCallState, label: str = "") -> None:
    """One DEBUG line per retry on the ``genro_storage`` logger (what failed, the wait);
    ``label`` names the mount (``"mount 'x' (gcs): "``) where the caller knows it."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.debug(
        "%sretry %d after %s: %s (waiting %.2f s)",
        label,
        state.attempt_number,
        type(exc).__name__ if exc is not None else "failure",
        exc,
        wait,
    )


def retrying(
    attempts: int,
    on_retry: Callable[[RetryCallState], None] | None = None,
    transient: Callable[[BaseException], bool] = is_transient,
) -> Retrying:
    """A tenacity ``Retrying`` making up to ``attempts`` attempts at transient failures;
    the last failure is re-raised as it was."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt

    return Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=_wait(),
        retry=retry_if_exception(transient),
        reraise=True,
        before_sleep=on_retry or _log_retry,
    )


def async_retrying(
    attempts: int, transient: Callable[[BaseException], bool] = is_transient, label: str = ""
) -> AsyncRetrying:
    """The ``async for`` twin of :func:`retrying` (``label``: see :func:`_log_retry`)."""
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    return AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=_wait(),
        retry=retry_if_exception(transient),
        reraise=True,
        before_sleep=functools.partial(_log_retry, label=label),
    )
