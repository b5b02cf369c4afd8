"""Decided answers for local files, reused while one stat per request says nothing changed.

A request for a file on local disk costs one ``lstat`` per path segment (plus one
``access`` per precompressed suffix) whatever this module does: that is how an upload or
an edit shows in the very next answer. What it saves is the rest: the route lookup, the
node, the description of the file and the serve core's decision. Each decided answer
(status, headers, which file sends the bytes) is kept per request path and per request
"key" (method and the header values the decision reads: the four preconditions,
``Range``, ``If-Range``, ``Accept-Encoding``; and whether ``Origin`` is there, which
decides a 304's CORS headers), next to the signature of the stats it
was decided from: size, ``mtime`` and ``ctime`` in nanoseconds, inode, mode, of the file
and of its ``.br``/``.gz`` siblings (whether a sibling came or went is read from the
directory's own signature when it has settled: one ``stat`` instead of one ``access`` per
suffix). A request whose stats give the same signature gets
the same answer, which is what the core would decide again (it reads nothing else); any
other signature drops the entry and the request is decided from scratch.

A small body (up to :data:`BODY_LIMIT`) is kept with its answer, so a 1 KiB file costs
no ``open``/``read``: only for a file whose ``ctime`` is at least :data:`SETTLED` seconds
old when it is read. The kernel moves ``ctime`` on every write and it cannot be set back,
so a later edit always shows in the signature, even one that keeps size and ``mtime``
(the ``ctime`` of a file changed twice within one clock tick could repeat: the guard
keeps such a file out of the body cache, as git does for its "racy" index entries).

Only plain local routes use it: no ``index``, no ``private`` signature, the ``stream``
delivery, and an app whose
``lookup``/``check_access``/``get_node``/``get_response`` are not overridden. Answers of
another kind (404, 405, several ranges with their random boundary, symlinked siblings)
are never kept.

On Linux the stats are replaced by ``inotify`` (:mod:`.watch`): a watched entry is
trusted while its token is valid, the kernel's queue being read at most once per the
route's ``freshness_ms`` window (``Route.freshness_ns``): a change shows in every answer
to a request that starts at least one window after the change completed.

A route with ``cache_stat: N`` trusts an entry for N seconds without a stat and decides
new keys from its :class:`~genro_storage.engine.serve.statcache.StatCache`, as before
(``clear()`` on it forgets the trust here too); a body that is not kept is read only
after a fresh stat.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine.serve.body import read_body
from ..engine.serve.prepare import PRELOAD_LIMIT, Prepared, compressible, media_of, prepare
from ..http.encoding import ENCODING_SUFFIXES
from ..http.headers import EnvironHeaders
from ..manager import StorageManager
from ..node import StorageNode
from .routes import Route
from .watch import Token, Watcher, watcher

__all__ = ["BODY_LIMIT", "ENVIRON_FIELDS", "ORIGIN", "SETTLED", "HotFiles"]

BODY_LIMIT = 16 * 1024
"""Bodies up to this size are kept with their answer (a byte budget bounds the total)."""
SETTLED = 2.0
"""Seconds since a file's last change (its ``ctime``) before its bytes may be kept."""
_BODY_BUDGET = 8 * 1024 * 1024
_MAX_FILES = 2048
_MAX_KEYS = 8  # answers kept per file (distinct If-None-Match/Range values...)
_MAX_KEY_CHARS = 512  # a request whose header values are longer is decided each time
_SUFFIXES = tuple(ENCODING_SUFFIXES.values())
# the request header fields the decision reads (http/core.py, and engine/serve/prepare.py's
# variant choice)
_FIELDS = (
    *("if-none-match", "if-modified-since", "accept-encoding", "range", "if-range"),
    *("if-match", "if-unmodified-since"),
)
# ... and whether ``Origin`` is there (a 304 repeats the route's CORS headers only then)
_FIELD_BYTES = tuple(name.encode() for name in _FIELDS)
# a field's place in the key (after the method; b"origin": the last one)
_FIELD_INDEX = {name: i for i, name in enumerate((*_FIELD_BYTES, b"origin"), 1)}
_ORIGIN_INDEX = _FIELD_INDEX[b"origin"]
ENVIRON_FIELDS = tuple("HTTP_" + name.upper().replace("-", "_") for name in _FIELDS)
"""The WSGI environ keys of the request header fields a decision reads, in key order."""
ORIGIN = "HTTP_ORIGIN"
"""The environ key whose presence ends a key (a 304 repeats CORS headers only then)."""
_E0, _E1, _E2, _E3, _E4, _E5, _E6 = ENVIRON_FIELDS
_PERCENT, _BACKSLASH = ord("%"), ord("\\")

Signature = tuple[int, int, int, int, int]
_monotonic_ns = time.monotonic_ns


def signature(st: os.stat_result) -> Signature:
    """What tells one state of a file from another: size, mtime, ctime (ns), inode, mode."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)


def _siblings(os_path: str) -> tuple[Signature | None, ...] | None:
    """The signatures of ``os_path``'s ``.br``/``.gz`` siblings (None: absent); None when
    one is a symlink (its target may change under an unchanged link: never kept)."""
    found: list[Signature | None] = []
    for suffix in _SUFFIXES:
        path = os_path + suffix
        if not os.access(path, os.F_OK):  # the cheap "no" of most requests
            found.append(None)
            continue
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return None
        found.append(signature(st))
    return tuple(found)


def _stat_signature(path: str) -> Signature | None:
    try:
        return signature(os.lstat(path))
    except OSError:
        return None


def _settled_folder(os_path: str) -> Signature | None:
    """The signature of ``os_path``'s directory when nothing was added to, removed from
    or renamed in it for :data:`SETTLED` seconds (else a change within the same tick of
    the file system's clock could leave it unchanged), else None."""
    try:
        st = os.stat(os.path.dirname(os_path))
    except OSError:
        return None
    return signature(st) if time.time() - st.st_ctime >= SETTLED else None


def _watch(backend: Any, rel: str, os_path: str, variants: bool) -> Token | None:
    """A change-notification token for ``os_path`` (and its ``.br``/``.gz`` siblings when
    ``variants``), or None: no watcher, or a mount root that may move (a symlink), or a
    symlink on the way from the root to the file (its own changes are not watched)."""
    found = watcher()
    if found is None:
        return None
    root = backend.local_root()
    if root is None or os_path != (root.rstrip("/") + "/" + rel):
        return None
    siblings = [os_path + suffix for suffix in _SUFFIXES] if variants else []
    return found.watch(os_path, siblings, root=root)


@dataclass(slots=True)
class _Entry:
    """One kept file: what its answers were decided from, and the answers by key.
    ``WSGIApp.__call__`` reads ``watcher``, ``token``, ``mounts``, ``window`` and ``wsgi``
    (its fast path, as :meth:`HotFiles._fast` reads them)."""

    route: Route
    backend: Any
    rel: str  # the mount path
    os_path: str
    signature: Signature
    siblings: tuple[Signature | None, ...] | None  # None: not looked at (not compressible)
    folder: Signature | None  # the directory's, when settled: siblings seen in one stat
    node: StorageNode
    answers: dict[tuple[Any, ...], Prepared] = field(default_factory=dict)
    settle_at: float = 0.0  # answers kept without a body they may keep from then on
    trusted_until: float = 0.0  # cache_stat routes: no stat before then (monotonic)
    generation: int = -1  # of the route's StatCache (its clear() forgets these too)
    folder_retry: float = 0.0  # no directory stat before then (it changed lately)
    folder_path: str = ""
    sibling_paths: tuple[str, ...] = ()
    token: Token | None = None  # valid while inotify saw no change (serving/watch.py)
    mounts: int = -1  # the manager's generation when ``backend`` was last found its mount's
    # set for a watched entry of a route without cache_stat: what _fast() reads
    watcher: Watcher | None = None
    window: int = 0  # the route's freshness window (ns)
    # the answers with nothing left to read (a 304, a HEAD, kept bytes), by key
    complete: dict[tuple[Any, ...], Prepared] = field(default_factory=dict)
    # the same answers ready for WSGI: (status line, headers, body), by key
    wsgi: dict[tuple[Any, ...], tuple[str, list[tuple[str, str]], bytes]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.folder_path = os.path.dirname(self.os_path)
        self.sibling_paths = tuple(self.os_path + suffix for suffix in _SUFFIXES)


class HotFiles:
    """The kept answers of one app, by request path (see the module docstring)."""

    def __init__(self, storage: StorageManager, body_limit: int = BODY_LIMIT) -> None:
        self._storage = storage
        #: the kept files by request path: read by :class:`~.wsgi_app.WSGIApp`'s fast path
        #: (a complete answer sent in its own frame); changed only by this class
        self.entries: dict[str, _Entry] = {}
        self._body_bytes = 0
        #: bodies up to this size are kept (:data:`BODY_LIMIT`; Django's static files
        #: middleware keeps up to 64 KiB, whitenoise's typical precompressed bundle)
        self.body_limit = body_limit

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, path: object) -> bool:
        """True when answers for the request path ``path`` are kept (a local file)."""
        return path in self.entries

    def clear(self) -> None:
        self.entries.clear()
        self._body_bytes = 0

    @staticmethod
    def key(method: str, headers: Mapping[str, str]) -> tuple[Any, ...]:
        """The request's part of the decision: method and the header values read."""
        if type(headers) is EnvironHeaders:
            return HotFiles.environ_key(method, headers.environ)
        get = headers.get
        return (method, *[get(name) for name in _FIELDS], get("origin") is not None)

    @staticmethod
    def scope_key(method: str, pairs: Iterable[tuple[bytes, bytes]]) -> tuple[Any, ...] | None:
        """:meth:`key` read straight from an ASGI scope's header pairs (the same values as
        :func:`~genro_storage.http.headers.headers_from_scope` gives); None when a field
        is repeated (its values would be joined: left to the usual way)."""
        values: list[Any] | None = None
        for name, value in pairs:
            index = _FIELD_INDEX.get(name.lower())
            if index is None:
                continue
            if values is None:
                values = [method, None, None, None, None, None, None, None, False]
            if index == _ORIGIN_INDEX:
                values[index] = True
            elif values[index] is not None:
                return None
            else:
                values[index] = value.decode("latin-1")
        if values is None:
            return (method, None, None, None, None, None, None, None, False)
        return tuple(values)

    @staticmethod
    def environ_key(method: str, environ: Mapping[str, Any]) -> tuple[Any, ...]:
        """:meth:`key` read straight from a WSGI environ (the same values)."""
        get = environ.get  # spelled out: a third cheaper than a loop, on every request
        return (
            method, get(_E0), get(_E1), get(_E2), get(_E3), get(_E4), get(_E5), get(_E6),
            ORIGIN in environ,
        )  # fmt: skip

    def _same_backend(self, entry: _Entry) -> bool:
        """False when the mount was configured again since: its new backend decides."""
        storage = self._storage
        generation = storage.generation
        if entry.mounts == generation:  # no configure()/remove_mount() since: the same
            return True
        try:
            same = storage.get_backend(entry.route.mount) is entry.backend
        except Exception:  # the mount is gone
            return False
        if same:
            entry.mounts = generation
        return same

    def _current(self, entry: _Entry) -> bool:
        """True when the file (and its siblings) still have the entry's signature."""
        if not self._same_backend(entry):
            return False
        try:
            found = entry.backend.local_stat(entry.rel)
        except Exception:  # missing, refused...: decide again
            return False
        if found is None or found[0] != entry.os_path or signature(found[1]) != entry.signature:
            return False
        siblings = entry.siblings
        if siblings is None:
            return True
        if entry.folder is None and time.time() < entry.folder_retry:
            return _siblings(entry.os_path) == siblings  # the directory changed lately
        # one stat of the directory says whether a sibling came or went (its mtime and
        # ctime move with every entry added, removed or renamed in it)...
        try:
            folder = os.stat(entry.folder_path)
        except OSError:
            return False
        now = signature(folder)
        if now == entry.folder:  # ...and the siblings there are stat'ed themselves
            return all(
                _stat_signature(path) == found
                for path, found in zip(entry.sibling_paths, siblings, strict=True)
                if found is not None
            )
        if _siblings(entry.os_path) != siblings:
            return False
        # the directory changed, not the siblings: its new signature, once settled
        settled = time.time() - folder.st_ctime >= SETTLED
        entry.folder = now if settled else None
        entry.folder_retry = 0.0 if settled else folder.st_ctime + SETTLED
        return True

    def answer(
        self, path: str, method: str, headers: Mapping[str, str] | None, key: tuple[Any, ...]
    ) -> Prepared | None:
        """The kept answer to a GET/HEAD of ``path`` whose :meth:`key` is ``key``, or None
        (decide it the usual way). Without ``headers``, a key not seen yet is None too."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        if headers is None:
            return self._fast(entry, path, method, key)
        return self._answer(entry, path, method, headers, key)

    def scope_answer(
        self, path: str, method: str, pairs: Iterable[tuple[bytes, bytes]]
    ) -> Prepared | None:
        """:meth:`answer` for an ASGI request's ``path`` (inside the app), GET/HEAD
        ``method`` and header ``pairs``: None when ``path`` is not kept, or as
        :meth:`scope_key` says."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        key = self.scope_key(method, pairs)
        return None if key is None else self._fast(entry, path, method, key)

    def asgi_answer(self, scope: Mapping[str, Any]) -> Prepared | None:
        """:meth:`answer` for an ASGI HTTP ``scope`` when it asks for a kept path the
        plain way (GET/HEAD, no ``%`` or ``\\`` in ``raw_path``), else None; the path
        is read as :meth:`~genro_storage.serving.asgi_app.ASGIApp.request_from` reads it
        (inside ``root_path``), the key as :meth:`scope_key`."""
        path = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):
            path = path[len(root) :]
        entry = self.entries.get(path)
        if entry is None:
            return None
        method = scope.get("method", "GET")
        if method != "GET" and method != "HEAD":
            return None
        raw = scope.get("raw_path")
        if raw and (_PERCENT in raw or _BACKSLASH in raw):  # ints: 6x cheaper than b"%"
            return None
        key = self.scope_key(method, scope.get("headers") or ())
        return None if key is None else self._fast(entry, path, method, key)

    def _fast(self, entry: _Entry, path: str, method: str, key: tuple[Any, ...]) -> Prepared | None:
        """:meth:`_answer` without headers, its default case inline: a watched entry,
        no ``cache_stat``, an answer with no body to read (a 304, a HEAD, kept bytes)."""
        watcher = entry.watcher
        token = entry.token
        if watcher is None or token is None or not token.valid:
            return self._answer(entry, path, method, None, key)
        if _monotonic_ns() - watcher.checked_at >= entry.window:  # catch_up(window) inline
            watcher.catch_up()
        if not token.valid or (
            entry.mounts != self._storage.generation and not self._same_backend(entry)
        ):
            self._drop(path)
            return None
        try:
            prepared = entry.complete.get(key)
        except TypeError:  # an unhashable environ value: not from a real server
            return None
        if prepared is not None:
            return prepared
        return self._answer(entry, path, method, None, key, checked=True)

    def _unchanged(self, entry: _Entry) -> bool:
        """True while ``entry``'s file is as when its answers were kept: its watch saw no
        change (the kernel's queued notifications applied first, at most once per the
        route's freshness window: no stat), or, unwatched, its stats still match."""
        token = entry.token
        if token is None:
            return self._current(entry)
        if token.valid:
            token.watcher.catch_up(entry.route.freshness_ns)
        return token.valid and self._same_backend(entry)

    def _answer(
        self,
        entry: _Entry,
        path: str,
        method: str,
        headers: Mapping[str, str] | None,
        key: tuple[Any, ...],
        checked: bool = False,
    ) -> Prepared | None:
        cache = entry.route.stat_cache
        trusted = (  # cache_stat: the stats are trusted for the route's TTL
            not checked  # (checked: watched, and caught up by the caller just now)
            and cache is not None
            and entry.generation == cache.generation
            and cache.clock() < entry.trusted_until
            and self._same_backend(entry)
        )
        if not trusted and not checked:
            if not self._unchanged(entry):
                self._drop(path)
                return None
            if cache is not None:
                entry.generation = cache.generation
                entry.trusted_until = cache.clock() + cache.ttl
        try:
            prepared = entry.answers.get(key)
        except TypeError:  # an unhashable environ value: not from a real server
            return None
        if prepared is None:
            return None if headers is None else self._decide(entry, method, headers, key)
        if prepared.body is None and prepared.plan.parts:
            plan = prepared.plan
            small = plan.content_length <= self.body_limit
            if small and entry.settle_at and time.time() >= entry.settle_at:
                if headers is None:  # decided with the request's headers, the usual way
                    return None
                entry.settle_at = 0.0  # settled since: decide again, keeping the bytes
                self._forget_answers(entry)
                return self._decide(entry, method, headers, key)
            if plan.content_length <= PRELOAD_LIMIT:
                if trusted:  # read as cache_stat reads: checked against the kept stat
                    return None if headers is None else self._decide(entry, method, headers, key)
                assert prepared.node is not None
                body = read_body(plan, prepared.node, prepared.os_path)
                return Prepared(plan, prepared.node, prepared.os_path, body=body)
        return prepared

    def learn(
        self,
        path: str,
        route: Route,
        node: StorageNode,
        method: str,
        headers: Mapping[str, str],
        key: tuple[Any, ...],
    ) -> Prepared | None:
        """Decide ``path`` for a plain local ``route`` and keep the answer; None when the
        file cannot be kept (not a regular local file, reached through a symlink of
        another name...): the caller then decides it the usual way."""
        if node.mount_name is None or node.version is not None or len(self.entries) >= _MAX_FILES:
            if len(self.entries) >= _MAX_FILES:
                self.clear()
            return None
        location = node.location
        backend, rel = location.backend, location.path
        try:  # the signature is taken BEFORE the decision: a change in between shows later
            found = backend.local_stat(rel)
        except Exception:  # missing, refused...: the usual way answers
            return None
        if found is None or not stat.S_ISREG(found[1].st_mode):
            return None
        os_path, st = found
        if os.path.basename(os_path) != node.basename:
            return None
        media, coding = media_of(node)
        variants = route.delivery.precompressed and coding is None and compressible(media)
        token = _watch(backend, rel, os_path, variants)
        if token is not None:  # the stats the answer is decided from come after the watch
            try:
                st = os.lstat(os_path)
            except OSError:
                return None
            if not stat.S_ISREG(st.st_mode):
                return None
        siblings = folder = None
        if variants:
            folder = _settled_folder(os_path)  # BEFORE the siblings are looked for
            siblings = _siblings(os_path)
            if siblings is None:
                return None
        entry = _Entry(route, backend, rel, os_path, signature(st), siblings, folder, node)
        entry.token = token
        cache = route.stat_cache
        if token is not None and cache is None:
            entry.watcher, entry.window = token.watcher, route.freshness_ns
        if cache is not None:  # decided from stats taken from now on, trusted for the TTL
            cache.forget(rel)
            entry.generation = cache.generation
            entry.trusted_until = cache.clock() + cache.ttl
        self._drop(path)
        self.entries[path] = entry
        return self._decide(entry, method, headers, key)

    def _decide(
        self, entry: _Entry, method: str, headers: Mapping[str, str], key: tuple[Any, ...]
    ) -> Prepared:
        route = entry.route
        prepared = prepare(
            entry.node, method, headers, route.options, route.delivery,
            stat_cache=route.stat_cache,
        )  # fmt: skip
        plan = prepared.plan
        if plan.status not in (200, 206, 304, 400, 412, 416) or plan.trailer:
            return prepared
        if len(entry.answers) >= _MAX_KEYS:
            return prepared
        if sum(len(value) for value in key[1:] if isinstance(value, str)) > _MAX_KEY_CHARS:
            return prepared
        kept = prepared
        if prepared.body is not None:
            verdict = self._keep_body(entry, prepared)
            if verdict is not True:
                kept = replace(prepared, body=None)
            if verdict is None:  # changed a moment ago: the body is kept once settled
                entry.settle_at = time.time() + SETTLED
        try:
            entry.answers[key] = kept
        except TypeError:  # an unhashable environ value: not from a real server
            return prepared
        if kept.body is not None or not kept.plan.parts:
            entry.complete[key] = kept
            plan = kept.plan
            entry.wsgi[key] = (plan.status_line, plan.headers, plan.body or kept.body or b"")
        return prepared

    def _keep_body(self, entry: _Entry, prepared: Prepared) -> bool | None:
        """True when ``prepared``'s body may be kept: small, within the budget, and read
        from the file in the entry's state, unchanged for :data:`SETTLED` seconds; None
        when the file changed less than that ago (or while it was read): keep nothing.

        The entry's signature was taken before the read and this ``lstat`` comes after
        it: equal signatures with an old ``ctime`` mean nothing wrote in between.
        """
        body, os_path = prepared.body, prepared.os_path
        if body is None or len(body) > self.body_limit or os_path is None:
            return False
        if self._body_bytes + len(body) > _BODY_BUDGET:
            return False
        if os_path == entry.os_path:
            expected = entry.signature
        elif entry.siblings is not None and os_path.startswith(entry.os_path):
            suffix = os_path[len(entry.os_path) :]
            if suffix not in _SUFFIXES:
                return False
            expected = entry.siblings[_SUFFIXES.index(suffix)]  # type: ignore[assignment]
        else:
            return False
        try:
            st = os.lstat(os_path)
        except OSError:
            return None
        if signature(st) != expected or time.time() - st.st_ctime < SETTLED:
            return None
        self._body_bytes += len(body)
        return True

    def _drop(self, path: str) -> None:
        entry = self.entries.pop(path, None)
        if entry is not None:
            self._forget_answers(entry)

    def _forget_answers(self, entry: _Entry) -> None:
        answers, entry.answers = entry.answers, {}
        entry.complete = {}
        entry.wsgi = {}
        self._body_bytes -= sum(len(p.body) for p in answers.values() if p.body is not None)
