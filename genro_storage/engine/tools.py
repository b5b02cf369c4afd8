"""External tools (``call``), downloads (``fill_from_url``) and snapshot local paths."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from ..fileio import CHUNK_SIZE
from .location import Location

__all__ = ["LocalArgument", "call", "fill_from_url", "snapshot_local_path"]

logger = logging.getLogger("genro_storage")


def fill_from_url(dest: Location, url: str, timeout: int = 30) -> str | None:
    """Download ``url`` into ``dest`` (streamed for real HTTP responses).

    Download failures raise ``OSError`` ("Failed to download from ..." for ``URLError``,
    else "Error downloading from ..."); write errors (permissions...) propagate unchanged.
    Returns the new path where the backend's path is the content (``base64``), else None.
    """
    import urllib.error  # here: a command that downloads nothing does not load them
    import urllib.request

    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"Invalid URL: {url!r} (must start with http:// or https://)")
    try:
        # looked up at call time with timeout by keyword: 0.4.2's users patch it in tests
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.URLError as exc:
        raise OSError(f"Failed to download from {url}: {exc}") from exc
    except Exception as exc:
        raise OSError(f"Error downloading from {url}: {exc}") from exc
    try:
        if _is_real_stream(response):  # http.client.HTTPResponse: stream it
            return dest.backend.write_stream(dest.path, _chunks(response, url))
        # a test double for urlopen's result: read it whole, as 0.4.2 did
        return dest.backend.write_bytes(dest.path, _read_whole(response, url))
    finally:
        close = getattr(response, "close", None)
        if callable(close):
            close()


def _is_real_stream(response: Any) -> bool:
    # A mock's read() answers the same bytes forever, so chunked reading would never end;
    # mocks built with spec=HTTPResponse pass isinstance, hence the module check.
    return isinstance(response, io.IOBase) and type(response).__module__ != "unittest.mock"


def _download_error(url: str, exc: BaseException) -> OSError:
    return OSError(f"Error downloading from {url}: {exc}")


def _chunks(response: Any, url: str) -> Iterator[bytes]:
    while True:
        try:
            chunk = response.read(CHUNK_SIZE)
        except Exception as exc:
            raise _download_error(url, exc) from exc
        if not chunk:
            return
        yield chunk


def _read_whole(response: Any, url: str) -> bytes:
    """The body of a non-stream response; a context-manager double is entered if needed."""
    try:
        data = response.read()
        if not isinstance(data, (bytes, bytearray)) and hasattr(response, "__enter__"):
            with response as entered:
                data = entered.read()
    except Exception as exc:
        raise _download_error(url, exc) from exc
    if not isinstance(data, (bytes, bytearray)):
        raise _download_error(url, TypeError(f"body is {type(data).__name__}, not bytes"))
    return bytes(data)


@contextlib.contextmanager
def snapshot_local_path(suffix: str, chunks: Iterable[bytes]) -> Iterator[str]:
    """A temp file (named ``*suffix``) holding ``chunks``: a versioned snapshot's bytes,
    for read-only use."""
    fd, tmp = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def call(
    args: tuple[Any, ...],
    callback: Any = None,
    async_mode: bool = False,
    return_output: bool = False,
    **subprocess_kwargs: Any,
) -> str | None:
    """Run ``args``; :class:`LocalArgument` items are swapped for their local paths
    (entered for the run, so written-back files are uploaded after it)."""

    def run() -> str | None:
        import subprocess  # here: only call() needs it

        with contextlib.ExitStack() as stack:
            argv = [
                stack.enter_context(a.open()) if isinstance(a, LocalArgument) else str(a)
                for a in args
            ]
            if return_output:
                out = subprocess.check_output(argv, **subprocess_kwargs)
                result: str | None = out.decode("utf-8") if isinstance(out, bytes) else out
            else:
                subprocess.check_call(argv, **subprocess_kwargs)
                result = None
            if callback is not None:
                callback()
            return result

    if async_mode:
        threading.Thread(target=_logged(run, args), daemon=True).start()
        return None
    return run()


class LocalArgument:
    """A command argument that is a file: ``open()`` gives a context manager yielding a
    local path (the file itself on local disk, a temp copy uploaded afterwards elsewhere).

    The facade wraps each node argument of ``StorageNode.call`` in one of these.
    """

    __slots__ = ("open",)

    def __init__(self, open: Callable[[], AbstractContextManager[str]]) -> None:
        self.open = open


def _logged(run: Any, args: tuple[Any, ...]) -> Any:
    """``run`` for a background thread: nobody can catch its errors, so they are logged
    (0.4.2 lost them) instead of reaching ``threading.excepthook``."""

    def target() -> None:
        try:
            run()
        except Exception:
            logger.exception("call(%s, async_mode=True) failed", ", ".join(map(repr, args)))

    return target
