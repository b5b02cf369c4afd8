"""The site every app test serves: the same files on a local mount and an S3 (moto) mount.

``make_spec`` writes the files and returns a JSON-able spec (mounts + serve section) that
the in-process tests and the gunicorn/uvicorn subprocesses (``_server.py``) both build
their app from, so every transport serves exactly the same configuration.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any

from genro_storage import StorageManager

SECRET = "test-signing-secret-0123456789abcdef"
CORS = ("Access-Control-Allow-Origin", "*")
CSS = b"body { color: #333; }\n" * 40
_rng = random.Random(1234)

FILES: dict[str, bytes] = {
    "hello.txt": b"Hello, world!\n",
    "empty.txt": b"",
    "data.bin": _rng.randbytes(100_000),
    "big.bin": _rng.randbytes(1_500_000),
    "style.css": CSS,
    "style.css.gz": gzip.compress(CSS, mtime=0),
    "style.css.br": b"BROTLI-STAND-IN:" + CSS[:64],  # content is opaque to the server
    "dir/nested.txt": b"nested\n",
    "dir/sub/deep.json": b'{"deep": true}\n',
    "unicode name \u00e9\u6f22.txt": "caf\u00e9 \u6f22\u5b57\n".encode(),
    ".hidden": b"hidden\n",
}
MULTIPART_SIZE = 5 * 1024 * 1024 + 4096  # two parts: its ETag ends in "-2"


def write_tree(root: Path) -> None:
    for name, data in FILES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def make_local(base: Path) -> tuple[Path, Path]:
    """The local root, a secret outside it, and symlinks leading out (and one inside)."""
    root, outside = base / "site", base / "outside"
    root.mkdir()
    outside.mkdir()
    write_tree(root)
    (outside / "secret.txt").write_bytes(b"TOP-SECRET-" + uuid.uuid4().hex.encode())
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape-file.txt").symlink_to(outside / "secret.txt")
    (root / "alias.txt").symlink_to(root / "hello.txt")
    (root / "leak.css").write_bytes(CSS)
    (root / "leak.css.gz").symlink_to(outside / "secret.txt")  # a variant leading out
    return root, outside


def upload_s3(env: dict[str, str]) -> str:
    """A fresh bucket holding the site (and a multipart object); returns its name."""
    from tests.remote import make_bucket, s3_client

    client = s3_client(env)
    bucket = make_bucket(env, "genro-serve")
    for name, data in FILES.items():
        client.put_object(Bucket=bucket, Key=name, Body=data)
    upload = client.create_multipart_upload(Bucket=bucket, Key="multi.bin")
    blob = _rng.randbytes(MULTIPART_SIZE)
    parts = []
    for number, (start, end) in enumerate([(0, 5 * 1024 * 1024), (5 * 1024 * 1024, None)], 1):
        part = client.upload_part(
            Bucket=bucket,
            Key="multi.bin",
            PartNumber=number,
            UploadId=upload["UploadId"],
            Body=blob[start:end],
        )
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    client.complete_multipart_upload(
        Bucket=bucket,
        Key="multi.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
    return bucket


def serve_section(with_s3: bool) -> dict[str, Any]:
    common = {"headers": dict([CORS]), "cache_max_age": 60, "index": True}
    serve: dict[str, Any] = {
        "/local": {"mount": "local", **common},
        "/plain": {"mount": "local"},
        "/assets": {"mount": "local", "cache_max_age": 31536000, "immutable": True},
        "/dl": {"mount": "local", "download": True},
        "/private": {"mount": "local", "private": True, "secret": SECRET, "index": True},
        "/redirect-local": {"mount": "local", "delivery": "redirect"},
        "/sendfile": {"mount": "local", "delivery": "x-sendfile"},
        "/accel": {"mount": "local", "delivery": "x-accel-redirect", "accel_prefix": "/_int/"},
    }
    if with_s3:
        serve["/s3"] = {"mount": "s3", **common}
        serve["/redirect-s3"] = {"mount": "s3", "delivery": "redirect", "expires_in": 300}
    return serve


def make_spec(base: Path, s3_env: dict[str, str] | None) -> dict[str, Any]:
    root, outside = make_local(base)
    mounts: list[dict[str, Any]] = [{"name": "local", "type": "local", "path": str(root)}]
    if s3_env is not None:
        mounts.append(
            {
                "name": "s3",
                "type": "s3",
                "bucket": upload_s3(s3_env),
                "endpoint_url": s3_env["SVC_S3_ENDPOINT"],
                "key": s3_env["SVC_S3_KEY"],
                "secret": s3_env["SVC_S3_SECRET"],
            }
        )
    return {
        "mounts": mounts,
        "serve": serve_section(s3_env is not None),
        "root": str(root),
        "secret_file": str(outside / "secret.txt"),
    }


def build_storage(spec: dict[str, Any]) -> StorageManager:
    storage = StorageManager()
    storage.configure(spec["mounts"])
    return storage


def write_spec(spec: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def spec_from_env() -> dict[str, Any]:
    return json.loads(Path(os.environ["GENRO_TEST_APP_SPEC"]).read_text(encoding="utf-8"))
