"""The ``serve`` section: which mount answers under which URL prefix, and how.

::

    serve:
      /static: assets                  # shorthand: prefix -> mount, every default
      /uploads:
        mount: uploads
        delivery: stream               # redirect | x-accel-redirect | x-sendfile
        cache_max_age: 3600            # Cache-Control: max-age (absent: cache_control)
        cache_control: no-cache        # sent without cache_max_age; false: no header
        immutable: false               # adds ", immutable" (fingerprinted assets)
        download: false                # Content-Disposition: attachment
        index: false                   # directory listings, HTML and JSON
        precompressed: true            # serve x.css.br / x.css.gz to clients that accept them
        headers: {Access-Control-Allow-Origin: "*"}   # on every answer, 304 and 416 too
        private: false                 # require a signed, expiring URL
        secret: "..."                  # or secrets: [new, old], or secret_env: NAME
        expires_in: 3600               # lifetime of presigned redirect URLs
        accel_prefix: /_protected/uploads/   # nginx internal location for this mount
        cache_stat: 0                  # keep each file's stat N seconds (0: stat every request)
        freshness_ms: 1                # an edit shows in every answer to a request that
                                       # starts this long after it (0: at once)

Unknown keys, an unknown mount, a bad value or a private route without a secret raise
:class:`~genro_storage.errors.StorageConfigError` naming the prefix and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config_file import read_config_file
from ..engine.serve.statcache import StatCache
from ..errors import StorageConfigError
from ..http.delivery import Delivery
from ..http.options import ServeOptions
from .watch import FRESHNESS_NS

__all__ = ["Route", "load_app_config", "parse_routes"]

_KEYS = frozenset(
    {
        *("mount", "delivery", "cache_max_age", "immutable", "download", "index"),
        *("precompressed", "headers", "private", "secret", "secrets", "secret_env"),
        *("expires_in", "accel_prefix", "cache_stat", "cache_control", "freshness_ms"),
    }
)


@dataclass(frozen=True)
class Route:
    """One URL prefix served from one mount."""

    prefix: str  # "/files" ("" for the root)
    mount: str
    options: ServeOptions
    delivery: Delivery
    index: bool = False
    secrets: tuple[str, ...] = ()
    stat_cache: StatCache | None = None  # cache_stat: N
    #: freshness_ms, in ns: kept answers ask the kernel for changes at most once per
    #: window (serving/watch.py Watcher.catch_up)
    freshness_ns: int = FRESHNESS_NS

    @property
    def private(self) -> bool:
        return bool(self.secrets)


def _prefix(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.startswith("/"):
        raise StorageConfigError(f"serve: prefix must be a str starting with '/': {raw!r}")
    return raw.rstrip("/")


def _secrets(prefix: str, spec: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[Any] = []
    if "secret" in spec:
        found.append(spec["secret"])
    found.extend(spec.get("secrets") or ())
    if "secret_env" in spec:
        value = os.environ.get(str(spec["secret_env"]))
        if not value:
            raise StorageConfigError(
                f"serve '{prefix}': environment variable {spec['secret_env']!r} is not set"
            )
        found.append(value)
    if not all(isinstance(s, str) and s for s in found):
        raise StorageConfigError(f"serve '{prefix}': secrets must be non-empty strings")
    if spec.get("private") and not found:
        raise StorageConfigError(f"serve '{prefix}': private: true needs secret/secrets/secret_env")
    if found and not spec.get("private", True):
        raise StorageConfigError(f"serve '{prefix}': a secret is given but private is false")
    return tuple(found)


def _route(prefix: str, spec: Any, mounts: list[str]) -> Route:
    if isinstance(spec, str):
        spec = {"mount": spec}
    if not isinstance(spec, Mapping):
        raise StorageConfigError(f"serve '{prefix}': expected a mount name or a mapping")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        known = ", ".join(sorted(_KEYS))
        raise StorageConfigError(f"serve '{prefix}': unknown key(s) {', '.join(unknown)}; {known}")
    mount = spec.get("mount")
    if mount not in mounts:
        raise StorageConfigError(
            f"serve '{prefix}': mount {mount!r} is not configured (mounts: {', '.join(mounts)})"
        )
    headers = spec.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise StorageConfigError(f"serve '{prefix}': headers must be a mapping")
    try:
        options = ServeOptions(
            download=bool(spec.get("download", False)),
            cache_max_age=spec.get("cache_max_age"),
            immutable=bool(spec.get("immutable", False)),
            extra_headers=tuple((str(k), str(v)) for k, v in headers.items()),
            cache_control_default=_cache_control(spec.get("cache_control", "no-cache")),
        )
        delivery = Delivery(
            mode=spec.get("delivery", "stream"),
            expires_in=spec.get("expires_in", 3600),
            accel_prefix=spec.get("accel_prefix", f"/_protected{prefix}/"),
            precompressed=bool(spec.get("precompressed", True)),
        )
    except ValueError as exc:
        raise StorageConfigError(f"serve '{prefix}': {exc}") from exc
    index = spec.get("index", False)
    secrets = _secrets(prefix, spec)
    return Route(
        prefix, mount, options, delivery, bool(index), secrets,
        _stat_cache(prefix, spec), _freshness_ns(prefix, spec),
    )  # fmt: skip


def _freshness_ns(prefix: str, spec: Mapping[str, Any]) -> int:
    window = spec.get("freshness_ms", FRESHNESS_NS / 1e6)
    if (
        isinstance(window, bool)
        or not isinstance(window, (int, float))
        or not 0 <= window <= 60_000
    ):
        raise StorageConfigError(
            f"serve '{prefix}': freshness_ms must be milliseconds from 0 to 60000, got {window!r}"
        )
    return round(window * 1_000_000)


def _cache_control(value: Any) -> str | None:
    """``cache_control``: a header value, or false / empty for no header."""
    if value is False or value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"cache_control must be a string or false, got {value!r}")
    return value


def _stat_cache(prefix: str, spec: Mapping[str, Any]) -> StatCache | None:
    ttl = spec.get("cache_stat")
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 <= ttl < float("inf"):
        raise StorageConfigError(f"serve '{prefix}': cache_stat must be seconds >= 0, got {ttl!r}")
    return StatCache(ttl) if ttl else None


def parse_routes(serve: Mapping[str, Any] | None, mounts: list[str]) -> list[Route]:
    """Routes from a ``serve`` mapping, longest prefix first; None serves every mount
    under ``/<mount name>`` with the defaults."""
    if serve is None:
        serve = {f"/{name}": name for name in mounts}
    if not isinstance(serve, Mapping):
        raise StorageConfigError("serve must be a mapping of URL prefix -> mount (or options)")
    routes = [_route(_prefix(prefix), spec, mounts) for prefix, spec in serve.items()]
    if len({r.prefix for r in routes}) != len(routes):
        raise StorageConfigError("serve: the same prefix appears twice")
    return sorted(routes, key=lambda r: len(r.prefix), reverse=True)


def load_app_config(path: str | os.PathLike[str]) -> tuple[Any, Any]:
    """Read an app config file: a mounts list, or ``{mounts: [...], serve: {...}}``.

    Returns ``(mounts, serve)``; ``serve`` is None when the file has none. The file is
    read by :func:`genro_storage.config_file.read_config_file`, the reader of
    ``configure()``: parse errors name the file and line, and the mounts keep the line
    of each entry for the errors of ``configure(mounts)``.
    """
    document = read_config_file(os.fspath(path), app=True)
    return document.mounts, document.serve
