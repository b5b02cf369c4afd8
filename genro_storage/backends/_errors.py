"""Map client-library errors into the genro-storage error tree, at the backend edge.

Drivers raise whatever their client library raises: botocore's
``EndpointConnectionError``, aiohttp's ``ClientConnectorError``, paramiko's
``AuthenticationException``, azure-core's ``HttpResponseError``... Backends wrap their
public methods with :func:`mapped` so callers only ever see the exceptions of
:mod:`genro_storage.errors`, each naming the mount. Classes are matched by name along the
exception's MRO, so no client library is imported here.
"""

from __future__ import annotations

import contextvars
import errno
import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    StorageAuthError,
    StorageConnectionError,
    StorageError,
    StorageNotFoundError,
)
from ._retry import http_status, is_transient

__all__ = ["chain_text", "classify", "log_calls", "mapped", "wrap_methods"]

if TYPE_CHECKING:
    from .base import StorageBackend

F = TypeVar("F", bound=Callable[..., Any])

#: One DEBUG line per backend request (the outermost mapped call: a method built on
#: others logs once), with its duration or its error.
log = logging.getLogger("genro_storage")
_in_request: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "genro_in_request", default=False
)
#: ``log.isEnabledFor``, bound once: every backend call asks it (a few hundred ns saved
#: per call on operations of a few microseconds, such as a memory mount's)
_log_enabled = log.isEnabledFor


def _logged(self: Any, name: str, args: tuple[Any, ...], call: Callable[[], Any]) -> Any:
    """Run ``call`` and log it at DEBUG (only the outermost backend call is logged)."""
    if _in_request.get() or not log.isEnabledFor(logging.DEBUG):
        return call()
    token = _in_request.set(True)
    started = time.perf_counter()
    try:
        result = call()
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        log.debug(
            "%s: %s %r failed after %.1f ms: %s",
            self.describe(),
            name,
            _path_arg(args),
            elapsed,
            type(exc).__name__,
        )
        raise
    finally:
        _in_request.reset(token)
    elapsed = (time.perf_counter() - started) * 1000
    log.debug("%s: %s %r %.1f ms", self.describe(), name, _path_arg(args), elapsed)
    return result


_CONNECTION_CLASSES = {
    "EndpointConnectionError",  # botocore
    "ConnectTimeoutError",
    "ConnectionClosedError",
    "ClientConnectorError",  # aiohttp
    "ServerDisconnectedError",
    "ServerTimeoutError",
    "ConnectError",  # httpx
    "ConnectTimeout",  # httpx, requests
    "ConnectionError",  # requests (an OSError, not the builtin)
    "RemoteProtocolError",
    "gaierror",  # socket: a host name that does not resolve
    "NoValidConnectionsError",  # paramiko
    "SSHException",
    "HTTPClientError",  # botocore: the HTTP layer failed (connection dropped, bad answer)
    "ServiceRequestError",  # azure-core: sending failed
    "ServiceResponseError",  # azure-core: the answer was cut or unreadable
    "TransportError",  # google-auth
}
_AUTH_CLASSES = {
    "AuthenticationException",  # paramiko
    "BadAuthenticationType",
    "PasswordRequiredException",
    "ClientAuthenticationError",  # azure-core
    "SMBAuthenticationError",  # smbprotocol
    "LogonFailure",
    "DefaultCredentialsError",  # google-auth
    "RefreshError",
    "NoCredentialsError",  # botocore
    "PartialCredentialsError",
}
_NOT_FOUND_CLASSES = {"ResourceNotFoundError", "NoSuchBucket", "NoSuchKey"}
_CONNECTION_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
}
_AUTH_WORDS = (
    "authenticat",
    "access key",
    "credential",
    "signature",
    "not authorized",
    "unauthorized",
    "forbidden",
    "401",
    "403",
)


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def chain_text(exc: BaseException, depth: int = 8) -> str:
    """Class names and messages of ``exc`` and the errors it was raised from.

    Drivers often re-raise a plain ``FileNotFoundError`` whose cause holds what actually
    happened (azure-core's ``ContainerNotFound``, smbprotocol's ``BadNetworkName``).
    """
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and depth > 0:
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
        depth -= 1
    return "\n".join(parts)


def classify(exc: BaseException) -> str | None:
    """``'connection'``, ``'auth'``, ``'not_found'`` or ``None`` (leave the error alone)."""
    names = _names(exc)
    if names & _AUTH_CLASSES:
        return "auth"
    if names & _CONNECTION_CLASSES:
        return "connection"
    if names & _NOT_FOUND_CLASSES:
        return "not_found"
    status = http_status(exc)
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return "connection"
    if isinstance(exc, OSError) and exc.errno in _CONNECTION_ERRNOS:
        return "connection"
    if isinstance(exc, PermissionError):
        text = str(exc).lower()
        return "auth" if any(word in text for word in _AUTH_WORDS) else None
    if isinstance(exc, FileNotFoundError) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOENT
    ):
        cause = exc.__cause__ or exc.__context__
        # fsspec's http driver turns every failure of info() into FileNotFoundError
        if cause is not None and classify(cause) == "connection":
            return "connection"
        return "not_found"
    return None


def translate(backend: StorageBackend, exc: BaseException, path: str) -> BaseException | None:
    """The genro-storage exception for ``exc`` raised by ``backend`` on ``path``, or None."""
    if isinstance(exc, StorageError):
        return None
    custom = backend.translate_error(exc, path)
    if custom is not None:
        return custom
    kind = classify(exc)
    where = backend.describe()
    shown = f"'{path}'" if path else "the mount root"
    detail = str(exc) or type(exc).__name__
    if kind == "connection":
        return StorageConnectionError(f"{where}: cannot reach the storage server ({detail})")
    if kind == "auth":
        return StorageAuthError(f"{where}: the server refused the credentials ({detail})")
    if kind == "not_found":
        return StorageNotFoundError(f"{where}: {shown} not found ({detail})")
    if is_transient(exc):  # a 5xx / SlowDown the client's own retries did not get past
        return StorageConnectionError(f"{where}: the storage server failed ({detail})")
    return None


def _path_arg(args: tuple[Any, ...]) -> str:
    return args[0] if args and isinstance(args[0], str) else ""


def _self_and_first_path(self: Any, args: tuple[Any, ...]) -> tuple[Any, str]:
    return self, _path_arg(args)


def mapped(
    method: F | None = None,
    *,
    locate: Callable[[Any, tuple[Any, ...]], tuple[Any, str]] = _self_and_first_path,
) -> Any:
    """Decorate a method so client-library errors leave it as genro-storage errors.

    Works on plain methods, generators, coroutines and async generators. ``locate(self,
    args)`` names the backend and the path for the message: by default ``self`` and the
    first string argument (a backend method); the async edge passes its own. A plain
    backend method is also logged at DEBUG (see :func:`_logged`).
    """
    if method is None:
        return functools.partial(mapped, locate=locate)
    name = method.__name__

    def converted(self: Any, args: tuple[Any, ...], exc: Exception) -> BaseException | None:
        backend, path = locate(self, args)
        return translate(backend, exc, path)

    wrapper: Callable[..., Any]
    if inspect.isasyncgenfunction(method):

        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                async for item in method(self, *args, **kwargs):
                    yield item
            except Exception as exc:
                new = converted(self, args, exc)
                if new is None:
                    raise
                raise new from exc

    elif inspect.iscoroutinefunction(method):

        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except Exception as exc:
                new = converted(self, args, exc)
                if new is None:
                    raise
                raise new from exc

    elif inspect.isgeneratorfunction(method):

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except Exception as exc:
                new = converted(self, args, exc)
                if new is None:
                    raise
                raise new from exc

    else:

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                if not _log_enabled(logging.DEBUG) or _in_request.get():
                    return method(self, *args, **kwargs)  # (no closure, no timing)
                return _logged(self, name, args, lambda: method(self, *args, **kwargs))
            except Exception as exc:
                new = converted(self, args, exc)
                if new is None:
                    raise
                raise new from exc

    wrapper = functools.wraps(method)(wrapper)
    wrapper.__mapped__ = True  # type: ignore[attr-defined]
    return wrapper


def log_calls(cls: type, names: Iterable[str]) -> None:
    """Log one DEBUG line per call of ``cls``'s plain methods among ``names`` (as
    :func:`mapped` does, without mapping errors: for backends whose errors are already
    the standard library's, such as the local disk). Generators are left alone."""
    for name in names:
        method = getattr(cls, name, None)
        if not callable(method) or getattr(method, "__logged__", False):
            continue
        if inspect.isgeneratorfunction(method) or inspect.iscoroutinefunction(method):
            continue
        setattr(cls, name, _logging_wrapper(method, name))


def _logging_wrapper(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _log_enabled(logging.DEBUG) or _in_request.get():
            return method(self, *args, **kwargs)
        return _logged(self, name, args, lambda: method(self, *args, **kwargs))

    wrapper.__logged__ = True  # type: ignore[attr-defined]
    return wrapper


def unwrapped(method: F) -> F:
    """Leave ``method`` out of :func:`wrap_methods` and :func:`log_calls` (no wrapper
    call per call).

    For a hot method of a few microseconds (a memory mount's ``delete``) whose own steps
    raise genro-storage errors only and which hands everything else, and every call
    while DEBUG logging is on (:func:`debug_logging`), to a mapped method: its errors
    are still mapped and its calls still logged.
    """
    method.__mapped__ = True  # type: ignore[attr-defined]
    method.__logged__ = True  # type: ignore[attr-defined]
    return method


def logged_as(name: str) -> Callable[[F], F]:
    """Log a method's calls at DEBUG under ``name`` (:func:`log_calls` for one method
    whose public name is a cheaper front: the front calls it, logged, while DEBUG
    logging is on, and does the work unwrapped otherwise)."""

    def decorate(method: F) -> F:
        return _logging_wrapper(method, name)  # type: ignore[return-value]

    return decorate


def debug_logging() -> bool:
    """Whether backend calls are being logged (DEBUG on ``genro_storage``)."""
    return _log_enabled(logging.DEBUG)


def wrap_methods(cls: type, names: Iterable[str]) -> None:
    """Apply :func:`mapped` to the methods ``cls`` itself defines among ``names``."""
    for name in names:
        method = cls.__dict__.get(name)
        if callable(method) and not getattr(method, "__mapped__", False):
            setattr(cls, name, mapped(method))
