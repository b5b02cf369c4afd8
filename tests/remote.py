"""Mounts on the real test servers (moto S3, fake-gcs, Azurite, nginx) for copy/async tests.

``add_remote_mount(manager, kind, name)`` creates a fresh bucket/container with the
service's own client and configures a mount on it through the public ``configure()``.
"""

from __future__ import annotations

import fcntl
import json
import re
import tempfile
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import IO, Any

from genro_storage import StorageManager
from tests.services import require_services


def add_remote_mount(manager: StorageManager, kind: str, name: str) -> dict[str, Any]:
    """Mount a fresh, empty area of service ``kind`` as ``name``; returns its details."""
    env = require_services(kind)
    unique = f"t{uuid.uuid4().hex[:12]}"
    if kind == "s3":
        import s3fs

        opts = {
            "key": env["SVC_S3_KEY"],
            "secret": env["SVC_S3_SECRET"],
            "endpoint_url": env["SVC_S3_ENDPOINT"],
        }
        fs = s3fs.S3FileSystem(**opts)
        fs.mkdir(unique)
        config = {
            "name": name,
            "type": "s3",
            "bucket": unique,
            "key": opts["key"],
            "secret": opts["secret"],
            "endpoint_url": opts["endpoint_url"],
        }
        _mount(manager, kind, config)
        return {"bucket": unique, "fs": fs, "endpoint": env["SVC_S3_ENDPOINT"]}
    if kind == "gcs":
        import gcsfs

        opts = {"endpoint_url": env["SVC_GCS_ENDPOINT"], "token": "anon", "project": "test"}
        fs = gcsfs.GCSFileSystem(**opts)
        fs.mkdir(unique)
        config = {"name": name, "type": "gcs", "bucket": unique, **opts}
        _mount(manager, kind, config)
        return {"bucket": unique, "fs": fs}
    if kind == "azure":
        import adlfs

        conn = env["SVC_AZURE_CONNECTION_STRING"]
        fs = adlfs.AzureBlobFileSystem(connection_string=conn)
        fs.mkdir(unique)
        config = {
            "name": name,
            "type": "azure",
            "container": unique,
            "account_name": "devstoreaccount1",
            "connection_string": conn,
        }
        _mount(manager, kind, config)
        return {"container": unique, "fs": fs}
    if kind == "http":
        base = env["SVC_HTTP_URL"].rstrip("/")
        config = {"name": name, "type": "http", "base_url": base}
        _mount(manager, kind, config)
        return {"root": env["SVC_HTTP_ROOT"], "url": base}
    raise ValueError(f"no remote mount recipe for {kind!r}")


def s3_client(env: dict[str, str]) -> Any:
    """A boto3 client on the test S3 server (for what the API does not do: buckets...)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["SVC_S3_ENDPOINT"],
        aws_access_key_id=env["SVC_S3_KEY"],
        aws_secret_access_key=env["SVC_S3_SECRET"],
        region_name="us-east-1",
    )


def make_bucket(env: dict[str, str], prefix: str = "t") -> str:
    """A fresh, empty bucket on the test S3 server; returns its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    s3_client(env).create_bucket(Bucket=name)
    return name


def _mount(manager: StorageManager, kind: str, config: dict[str, Any]) -> None:
    manager.configure([config])


class S3Requests:
    """Count the requests the moto server receives for ``buckets`` (moto's own request
    recorder).

    The recorder is one switch for the whole server and sees every client, other pytest-xdist
    workers' too: a recording holds a lock file per server for its duration (no two at once,
    whichever worker runs them), and keeps only the requests that name one of ``buckets``
    (the test's own, uniquely named: at least one).
    """

    def __init__(self, endpoint: str, *buckets: str) -> None:
        if not buckets:
            raise TypeError("S3Requests needs the test's bucket(s): it keeps only their requests")
        self.endpoint = endpoint.rstrip("/")
        self.buckets = set(buckets)
        port = urllib.parse.urlsplit(self.endpoint).port
        self._lock_path = Path(tempfile.gettempdir()) / f"genro-moto-recorder-{port}.lock"
        self._lock: IO[bytes] | None = None

    def _call(self, action: str) -> str:
        req = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/{action}", method="POST", data=b""
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # loopback only
            return resp.read().decode()

    def __enter__(self) -> S3Requests:
        self._lock = open(self._lock_path, "ab")  # closed in __exit__
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._call("reset-recording")
        self._call("start-recording")
        self.requests: list[dict[str, Any]] = []
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call("stop-recording")
            raw = urllib.request.urlopen(
                f"{self.endpoint}/moto-api/recorder/download-recording", timeout=60
            ).read()
            self.requests = [r for r in _parse_recording(raw.decode()) if self._ours(r["url"])]
            self._call("reset-recording")
        finally:
            assert self._lock is not None
            self._lock.close()  # releases the flock
            self._lock = None

    def _ours(self, url: str) -> bool:
        """A request for one of our buckets: path-style ``/bucket[/key][?query]`` or a
        virtual-hosted ``bucket.host``."""
        rest = url.split("://", 1)[-1]
        host, _, path = rest.partition("/")
        first = path.split("?", 1)[0].split("/", 1)[0]
        return first in self.buckets or host.split(".", 1)[0] in self.buckets

    async def __aenter__(self) -> S3Requests:  # for async tests: never block the loop
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.__enter__)

    async def __aexit__(self, *exc: object) -> None:
        import anyio.to_thread

        await anyio.to_thread.run_sync(self.__exit__)

    @property
    def versioning_probes(self) -> int:
        """GetBucketVersioning requests: an S3 mount asks once, for its capabilities."""
        return sum(r["url"].endswith("?versioning") for r in self.requests)

    def summary(self) -> list[str]:
        """``"METHOD kind"`` per request: kind is ``list``, ``object`` or ``bucket``.

        The once-per-mount versioning probe is left out (see ``versioning_probes``).
        """
        out = []
        for r in self.requests:
            url = r["url"].split("://", 1)[-1]
            path, _, query = url.partition("/")[2].partition("?")
            if query == "versioning":
                continue
            if "list-type" in query or ("/" not in path.strip("/") and r["method"] == "GET"):
                kind = "list"
            elif "/" in path.strip("/"):
                kind = "object"
            else:
                kind = "bucket"
            copy = " copy" if any(k.lower() == "x-amz-copy-source" for k in r["headers"]) else ""
            out.append(f"{r['method']} {kind}{copy}")
        return out


_REQUEST = re.compile(r'"method": "([A-Z]+)", "url": "([^"]+)"')


_ENTRY = re.compile(r'\{"headers": ')
_decoder = json.JSONDecoder()


def _parse_recording(text: str) -> list[dict[str, Any]]:
    """The recorder's JSON lines. Concurrent large uploads (a base64 body is written in
    several pieces) can interleave with other entries: every entry found whole inside a
    line is decoded whole; of a cut one, its method and URL are kept (without headers)."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        starts = [m.start() for m in _ENTRY.finditer(line)]
        if not starts:
            continue
        for start, end in zip(starts, [*starts[1:], len(line)]):
            try:
                entry, stop = _decoder.raw_decode(line, start)
            except ValueError:
                entry, stop = None, start
            if isinstance(entry, dict) and stop == end:
                out.append(entry)
            else:
                piece = line[start:end]
                out.extend(
                    {"method": m, "url": u, "headers": {}} for m, u in _REQUEST.findall(piece)
                )
    return out
