"""External tools (``call``), downloads (``fill_from_url``) and snapshot local paths."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .backends.base import CHUNK_SIZE

if TYPE_CHECKING:
    from .node import StorageNode

__all__ = ["call", "fill_from_url", "snapshot_local_path"]


def fill_from_url(node: StorageNode, url: str, timeout: int = 30) -> None:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"Invalid URL: {url!r} (must start with http:// or https://)")
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.URLError as exc:
        raise OSError(f"Failed to download from {url}: {exc}") from exc
    except Exception as exc:
        raise OSError(f"Error downloading from {url}: {exc}") from exc
    with response:
        try:
            node.write_stream(iter(lambda: response.read(CHUNK_SIZE), b""))
        except OSError:
            raise
        except Exception as exc:
            raise OSError(f"Error downloading from {url}: {exc}") from exc


@contextlib.contextmanager
def snapshot_local_path(node: StorageNode) -> Iterator[str]:
    """A temp file holding a versioned snapshot's bytes (read-only use)."""
    fd, tmp = tempfile.mkstemp(suffix=node.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in node.iter_bytes():
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
    """Run ``args``; StorageNode arguments are swapped for local paths (mode ``rw``)."""
    from .node import StorageNode

    def run() -> str | None:
        with contextlib.ExitStack() as stack:
            argv = [
                stack.enter_context(a.local_path(mode="rw"))
                if isinstance(a, StorageNode)
                else str(a)
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
        threading.Thread(target=run, daemon=True).start()
        return None
    return run()
