"""obstore (Rust ``object_store``) for an S3 mount: the store, keys, errors, bodies.

An S3 mount configured with ``client: obstore`` sends its hot requests (GET, HEAD,
PUT, list, delete, same-bucket copy) through one :class:`obstore.store.S3Store` built
here from the mount's own keys; see :mod:`.s3obstore` for which operations use it.

- **Settings**: ``endpoint_url`` (``allow_http`` for an ``http://`` one, path-style
  addressing for any explicit endpoint), ``region`` (``us-east-1`` by default, as
  botocore signs for a custom endpoint), ``key``/``secret``/``token``, ``anon`` (no
  signature); without keys, botocore's own credential chain (environment,
  ``~/.aws``, profile, instance role) answers obstore's credential callback.
  ``retries`` -> ``RetryConfig.max_retries`` (backoff 0.1 s doubling, capped at 5 s, as
  :mod:`._retry`); ``connect_timeout`` -> ``connect_timeout``; ``timeout`` (seconds
  without a byte) -> ``read_timeout``; obstore's whole-request timeout (30 s by default,
  which would cut a large download) is a day.
- **Keys**: ``object_store`` refuses empty segments and ``.``/``..`` segments; such a
  key (and a folder marker ``dir/``, which it cannot address) goes the botocore way.
- **Errors**: obstore raises ``FileNotFoundError`` itself; its other errors are mapped
  by :func:`translate` (a refused connection, a 5xx it did not get past, refused
  credentials, a precondition), with the first line of its message only.
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as _dt
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import StorageAuthError, StorageConnectionError, StorageError

if TYPE_CHECKING:
    from ._transfer import NetworkSettings

__all__ = [
    "CLIENTS",
    "StoreHolder",
    "attributes_of",
    "build_store",
    "drain",
    "in_flight",
    "obstore_key",
    "settled",
    "settled_iter",
    "short_text",
    "translate",
]

T = TypeVar("T")

#: values of an S3 mount's ``client`` key
CLIENTS = ("botocore", "obstore")
#: obstore's whole-request timeout: a day (our ``timeout`` is a per-read one)
REQUEST_TIMEOUT = _dt.timedelta(days=1)
#: user metadata keys S3 stores; obstore's attribute names for the standard headers
_HEADER_ATTRIBUTES = {
    "ContentType": "Content-Type",
    "ContentEncoding": "Content-Encoding",
    "ContentDisposition": "Content-Disposition",
    "ContentLanguage": "Content-Language",
    "CacheControl": "Cache-Control",
}


def obstore_key(key: str) -> str | None:
    """``key`` when ``object_store`` can address it unchanged, else None."""
    if not key or key.startswith("/") or key.endswith("/"):
        return None
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            return None
    return key


def attributes_of(kwargs: Mapping[str, Any]) -> dict[str, str]:
    """obstore ``attributes`` from the botocore keywords of ``_put_kwargs`` (headers
    and ``Metadata``); user metadata keys are sent as they are (S3 lowercases them)."""
    attributes: dict[str, str] = {}
    for name, value in kwargs.items():
        if name in _HEADER_ATTRIBUTES and value is not None:
            attributes[_HEADER_ATTRIBUTES[name]] = str(value)
    for name, value in (kwargs.get("Metadata") or {}).items():
        attributes[str(name)] = str(value)
    return attributes


def _seconds(value: float) -> _dt.timedelta:
    return _dt.timedelta(seconds=float(value))


def _botocore_credentials() -> Callable[[], dict[str, Any]]:
    """obstore's credential callback answered by botocore's chain (environment,
    ``~/.aws/credentials`` and ``config`` with ``AWS_PROFILE``, container or instance
    role), read on each call: refreshable credentials stay fresh."""
    import botocore.session

    session = botocore.session.get_session()

    def provide() -> dict[str, Any]:
        found = session.get_credentials()
        if found is None:
            raise PermissionError(
                "Unable to locate credentials: none in the mount's 'key'/'secret', "
                "the environment, ~/.aws or an instance role"
            )
        frozen = found.get_frozen_credentials()
        expiry = getattr(found, "_expiry_time", None)
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": expiry if isinstance(expiry, _dt.datetime) else None,
        }

    return provide


def build_store(config: Mapping[str, Any], network: NetworkSettings) -> Any:
    """The ``S3Store`` of an S3 mount's configuration (no prefix: keys are whole)."""
    from obstore.store import S3Store

    endpoint = str(config.get("endpoint_url") or "")
    options: dict[str, Any] = {
        "connect_timeout": _seconds(network.connect_timeout),
        "read_timeout": _seconds(network.timeout),
        "timeout": REQUEST_TIMEOUT,
        "pool_max_idle_per_host": "128",
    }
    if endpoint.lower().startswith("http://"):
        options["allow_http"] = True
    retry = {
        "max_retries": network.retries,
        "backoff": {
            "init_backoff": _dt.timedelta(milliseconds=100),
            "max_backoff": _dt.timedelta(seconds=5),
            "base": 2,
        },
        "retry_timeout": _dt.timedelta(minutes=3),
    }
    kwargs: dict[str, Any] = {}
    region = config.get("region") or (config.get("client_kwargs") or {}).get("region_name")
    kwargs["region"] = str(region or "us-east-1")
    if endpoint:
        kwargs["endpoint"] = endpoint
        kwargs["virtual_hosted_style_request"] = False
    provider = None
    if config.get("anon"):
        kwargs["skip_signature"] = True
    elif config.get("key") is not None or config.get("secret") is not None:
        kwargs["access_key_id"] = str(config.get("key") or "")
        kwargs["secret_access_key"] = str(config.get("secret") or "")
        if config.get("token"):
            kwargs["token"] = str(config["token"])
    else:
        provider = _botocore_credentials()
    return S3Store(
        str(config["bucket"]),
        client_options=options,  # type: ignore[arg-type]
        retry_config=retry,  # type: ignore[arg-type]
        credential_provider=provider,  # type: ignore[arg-type]
        **kwargs,
    )


# ---------------------------------------------------------------------- forks
# obstore's tokio runtime starts with the process's first request and does not survive
# ``fork()``: its worker threads are not copied, so in a child every obstore call waits
# for them forever (obstore's maintainers: "obstore is not fork safe"). A child forked
# after its parent used obstore therefore gets a clear error instead of a hang; a child
# of a parent that never sent an obstore request starts its own runtime and is fine.
_runtime_started = False
_runtime_inherited = False


def _after_fork_in_child() -> None:
    global _runtime_inherited, _in_flight, _settled_cond
    _runtime_inherited = _runtime_started
    # the parent's requests in flight are not this process's, and its lock may be held
    _in_flight = 0
    _settled_cond = threading.Condition()


def forked_error(label: str) -> StorageError:
    """The error of an obstore request in a child forked after the parent used obstore."""
    return StorageError(
        f"Mount '{label}' (client: obstore): this process was forked after obstore ran "
        "in its parent, and obstore's runtime does not survive a fork (its requests "
        "would hang). Start workers with multiprocessing's 'spawn' or 'forkserver' "
        "method, use the mount only after the fork (gunicorn without --preload), or "
        "configure 'client: botocore'."
    )


class StoreHolder:
    """One mount's store, built on first use (thread-safe), shared by its twins.

    ``label`` (the mount's name) goes into the error refusing a forked child's requests.
    """

    def __init__(self, factory: Callable[[], Any], label: str = "?") -> None:
        self._factory = factory
        self._store: Any = None
        self._lock = threading.Lock()
        self.label = label

    @property
    def store(self) -> Any:
        global _runtime_started
        if _runtime_inherited:
            raise forked_error(self.label)
        _runtime_started = True  # the caller is about to send a request
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = self._factory()
        return self._store

    @property
    def built(self) -> bool:
        """Whether the store exists (the next use sends requests at once)."""
        return self._store is not None

    def drop(self) -> None:
        """Let the store (and its connections) go; the next use builds another."""
        with self._lock:
            self._store = None


# ---------------------------------------------------------------------- clean exits
# obstore runs each async request as a tokio task that takes the GIL to hand its answer
# to the asyncio loop that asked (``call_soon_threadsafe``) and to let go of its Python
# objects. When that loop runs in a daemon thread (fsspec's: the copy engine's batch
# route; or a caller's) and the interpreter exits with requests in flight, or just
# answered, a tokio thread enters Python during finalization: pyo3 panics ("The Python
# interpreter is not initialized") and the process aborts (status 134, sometimes a
# segfault): 2 runs in 20 with 20 reads answered about when the main thread ended
# (``tests/backends/test_s3_obstore.py``). The bench jobs' ``os._exit`` hid it.
# So every obstore awaitable goes through :func:`settled`, which counts it in flight,
# and an ``atexit`` hook (:func:`drain`, registered with the first request) refuses new
# requests, waits for those in flight (up to :data:`EXIT_WAIT` s) and leaves the last
# answers' tasks :data:`EXIT_GRACE` s to finish, before finalization starts. The sync
# functions need none of this: the calling thread converts the answer itself, tokio
# threads never touch Python (30 runs in 30 clean with daemon threads in flight).
EXIT_WAIT = 10.0
#: seconds left to the tokio tasks of the last answers (see :func:`drain`)
EXIT_GRACE = 0.2
_in_flight = 0
_last_done = 0.0
_exiting = False
_settled_cond = threading.Condition()
_hooked = False


def _done(_future: asyncio.Future[Any]) -> None:
    global _in_flight, _last_done
    with _settled_cond:
        _in_flight -= 1
        _last_done = time.monotonic()
        _settled_cond.notify_all()


def in_flight() -> int:
    """obstore requests started by this process and not answered yet."""
    return _in_flight


def drain(timeout: float = EXIT_WAIT) -> bool:
    """From now on start no obstore request (:func:`settled` refuses), and wait until
    none is in flight (True) or ``timeout`` s (False). Run at interpreter exit."""
    global _exiting
    with _settled_cond:
        _exiting = True
        drained = _settled_cond.wait_for(lambda: _in_flight <= 0, timeout)
        # the answer reaches Python before its tokio task has let go of its Python
        # objects: give the last ones time to finish
        rest = _last_done + EXIT_GRACE - time.monotonic()
    if rest > 0:
        time.sleep(rest)
    return drained


async def settled(start: Callable[[], Awaitable[T]]) -> T:
    """``await start()`` (``start`` sends one obstore request), counted in flight until
    answered or cancelled. Once the interpreter is exiting (:func:`drain`), no request
    is sent: ``StorageConnectionError``."""
    global _in_flight, _hooked
    with _settled_cond:
        if _exiting:
            raise StorageConnectionError(
                "the interpreter is exiting: no new obstore request is sent"
            )
        _in_flight += 1
        if not _hooked:
            _hooked = True
            atexit.register(drain)
    try:
        future: asyncio.Future[T] = asyncio.ensure_future(start())
    except BaseException:
        _done(None)  # type: ignore[arg-type]
        raise
    future.add_done_callback(_done)
    return await future  # (cancelled: obstore drops the request; drain() waits for it)


async def settled_iter(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """``async for`` over an obstore stream, each step through :func:`settled`."""
    iterator = stream.__aiter__()
    while True:
        try:
            item = await settled(iterator.__anext__)
        except StopAsyncIteration:
            return
        yield item


def short_text(exc: BaseException) -> str:
    """The first line of an obstore error (its message goes on with a debug dump)."""
    text = str(exc).strip()
    return text.split("\n", 1)[0].strip() or type(exc).__name__


def _is_obstore(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("obstore")


_CONNECTION_WORDS = (
    "error sending request",
    "error trying to connect",
    "connection refused",
    "connection reset",
    "connection closed",
    "timed out",
    "operation timed out",
    "dns error",
    "error decoding response body",
    "retry error",
)


def translate(describe: str, exc: BaseException, path: str) -> BaseException | None:
    """Our exception for an obstore error on ``path`` (None: leave it to the generic
    mapping). ``describe``: the mount, as messages name it."""
    if not _is_obstore(exc):
        return None
    name = type(exc).__name__
    text = short_text(exc)
    shown = f"'{path}'" if path else "the mount root"
    if name in ("AlreadyExistsError",):
        return FileExistsError(f"{describe}: {shown} already exists ({text})")
    if name == "PreconditionError":
        return StorageError(f"{describe}: {shown}: a condition of the request failed ({text})")
    if name in ("PermissionDeniedError", "UnauthenticatedError"):
        return StorageAuthError(
            f"{describe}: access denied by the S3 server; check key, secret and the "
            f"bucket policy ({text})"
        )
    lowered = str(exc).lower()
    if "status code: 403" in lowered or "status code: 401" in lowered:
        return StorageAuthError(
            f"{describe}: access denied by the S3 server; check key, secret and the "
            f"bucket policy ({text})"
        )
    if "status code: 5" in lowered or "slowdown" in lowered:
        return StorageConnectionError(f"{describe}: the storage server failed ({text})")
    if any(word in lowered for word in _CONNECTION_WORDS):
        return StorageConnectionError(f"{describe}: cannot reach the storage server ({text})")
    if name == "NotSupportedError":
        return StorageError(f"{describe}: {shown}: not supported by obstore ({text})")
    return StorageError(f"{describe}: {shown}: {text}")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
