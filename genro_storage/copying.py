"""The copy engine behind ``copy_to``: skip strategies, filters, progress, concurrency.

A tree copy lists both sides once (``walk_files``: one LIST on object stores), decides
per file from those listings (sizes, stored MD5s) and copies the kept files on a thread
pool. Callbacks run on the calling thread, in walk order.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .backends.base import EntryInfo
from .errors import CopyError

if TYPE_CHECKING:
    from .node import StorageNode

__all__ = ["DEFAULT_MAX_WORKERS", "copy_node"]

DEFAULT_MAX_WORKERS = 16
_SKIPS = ("never", "exists", "size", "hash", "custom")


def _patterns(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def copy_node(
    src: StorageNode,
    dest: StorageNode | str,
    *,
    include: Any = None,
    exclude: Any = None,
    filter: Callable[..., bool] | None = None,
    skip: Any = "never",
    skip_fn: Callable[..., bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_file: Callable[[StorageNode], None] | None = None,
    on_skip: Callable[[StorageNode, str], None] | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    on_error: str | Callable[[StorageNode, BaseException], None] = "collect",
) -> StorageNode:
    from .virtual import VirtualNode

    target = src._manager.node(dest) if isinstance(dest, str) else dest
    if isinstance(src, VirtualNode):
        target.write_bytes(src.read_bytes())
        return target
    skip = getattr(skip, "value", skip)
    if skip not in _SKIPS:
        raise ValueError(f"Unknown skip strategy {skip!r}: use one of {', '.join(_SKIPS)}")
    if skip == "custom" and skip_fn is None:
        raise ValueError("skip='custom' requires skip_fn (a callable(src, dest) -> bool)")
    try:
        src_entry = src.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"Source not found: {src.fullpath}") from None
    target._require_backend().check_write_allowed()
    tracked = skip != "never" or any(
        x is not None for x in (include, exclude, filter, progress, on_file, on_skip)
    )
    if not src_entry.is_dir:
        if tracked:
            dest_entry = _stat_or_none(target)
            reason = _skip_reason(src, src_entry, target, dest_entry, skip, skip_fn)
            if reason:
                if on_skip:
                    on_skip(src, reason)
                return target
        if target.isdir:  # a file copied onto a directory lands inside it
            _copy_file(src, target.child(src.basename))
        else:
            _copy_file(src, target)
        if on_file:
            on_file(src)
        return target
    _copy_tree(
        src,
        target,
        include=_patterns(include),
        exclude=_patterns(exclude),
        filter=filter,
        skip=skip,
        skip_fn=skip_fn,
        progress=progress,
        on_file=on_file,
        on_skip=on_skip,
        max_workers=max_workers,
        on_error=on_error,
    )
    return target


def _stat_or_none(node: StorageNode) -> EntryInfo | None:
    try:
        return node.stat()
    except FileNotFoundError:
        return None


def _copy_file(src: StorageNode, dest: StorageNode) -> None:
    src_backend = src._require_backend()
    new_path = src_backend.copy(src._p, dest._require_backend(), dest._p)
    dest._adopt(new_path)


def _md5(node: StorageNode, entry: EntryInfo) -> str:
    return entry.md5 or node.md5hash


def _skip_reason(
    src: StorageNode,
    src_entry: EntryInfo,
    dest: StorageNode,
    dest_entry: EntryInfo | None,
    skip: str,
    skip_fn: Callable[..., bool] | None,
) -> str | None:
    """Why to leave ``dest`` alone, or None to copy. Errors while comparing mean copy."""
    if dest_entry is None or dest_entry.is_dir or skip == "never":
        return None
    try:
        if skip == "exists":
            return "destination exists"
        if skip == "size":
            if src_entry.size == dest_entry.size:
                return f"same size ({src_entry.size} bytes)"
            return None
        if skip == "hash":
            if src_entry.size != dest_entry.size:
                return None  # different sizes cannot hash the same: no download needed
            digest = _md5(src, src_entry)
            if digest == _md5(dest, dest_entry):
                return f"same content (MD5: {digest[:8]}...)"
            return None
        if skip == "custom" and skip_fn is not None and skip_fn(src, dest):
            return "custom function returned True"
    except Exception:
        return None
    return None


def _keep(
    rel: str,
    node: StorageNode,
    include: list[str],
    exclude: list[str],
    filter: Callable[..., bool] | None,
) -> str | None:
    """None to keep the file, else the reason it is filtered out."""
    if include and not any(fnmatch.fnmatch(rel, p) for p in include):
        return "not matching include patterns"
    for pattern in exclude:
        if fnmatch.fnmatch(rel, pattern):
            return f"matching exclude pattern '{pattern}'"
    if filter is not None:
        try:
            if not filter(node, rel):
                return "filtered by custom function"
        except Exception as exc:
            return f"filter error: {exc}"
    return None


def _relative(entry_path: str, base: str) -> str:
    return entry_path[len(base) :].lstrip("/") if base else entry_path


def _copy_tree(
    src: StorageNode,
    dest: StorageNode,
    *,
    include: list[str],
    exclude: list[str],
    filter: Callable[..., bool] | None,
    skip: str,
    skip_fn: Callable[..., bool] | None,
    progress: Callable[[int, int], None] | None,
    on_file: Callable[[StorageNode], None] | None,
    on_skip: Callable[[StorageNode, str], None] | None,
    max_workers: int,
    on_error: Any,
) -> None:
    base = src._p
    dest.mkdir(parents=True, exist_ok=True)
    dest_listing = _listing(dest) if skip != "never" else {}
    kept: list[tuple[StorageNode, EntryInfo, StorageNode]] = []
    for node, entry in src.walk():
        rel = _relative(entry.path, base)
        target = dest.child(rel)
        if entry.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        reason = _keep(rel, node, include, exclude, filter)
        if reason:
            if on_skip:
                on_skip(node, reason)
            continue
        kept.append((node, entry, target))
    total = len(kept)
    failures: list[tuple[str, BaseException]] = []

    def work(item: tuple[StorageNode, EntryInfo, StorageNode]) -> str | None:
        node, entry, target = item
        reason = _skip_reason(node, entry, target, dest_listing.get(target._p), skip, skip_fn)
        if reason is None:
            _copy_file(node, target)
        return reason

    for index, (item, outcome) in enumerate(_run(work, kept, max_workers), start=1):
        node = item[0]
        if isinstance(outcome, BaseException):
            if on_error == "raise":
                raise outcome
            if callable(on_error):
                on_error(node, outcome)
            else:
                failures.append((node.fullpath, outcome))
        elif outcome is None:
            if on_file:
                on_file(node)
        elif on_skip:
            on_skip(node, outcome)
        if progress:
            progress(index, total)
    if failures:
        raise CopyError(failures)


def _listing(dest: StorageNode) -> dict[str, EntryInfo]:
    try:
        return {entry.path: entry for entry in dest._require_backend().walk_files(dest._p)}
    except (FileNotFoundError, NotImplementedError):
        return {}


def _run(
    work: Callable[[Any], Any], items: list[Any], max_workers: int
) -> Iterable[tuple[Any, Any]]:
    """Yield ``(item, result or exception)`` in input order, running up to max_workers."""
    if max_workers <= 1 or len(items) <= 1:
        for item in items:
            try:
                yield item, work(item)
            except Exception as exc:
                yield item, exc
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        futures: list[Future[Any]] = [pool.submit(work, item) for item in items]
        try:
            for item, future in zip(items, futures):
                error = future.exception()
                yield item, error if error is not None else future.result()
        finally:
            for future in futures:
                future.cancel()
