"""Every backend of the conformance suite: how to mount it, and where it deviates.

A target either gives a writable mount rooted in a fresh, empty place (``writable``), or
builds the read fixture (``data.TREE`` and the 50 MiB file under ``tree/``) in the
native format of a read-only backend (an archive, a git repository, a web root, a
repository behind the GitHub API stand-in). Remote endpoints come from services.env.

A deviation is a documented difference from the contract: the test asserts the
deviating behaviour instead, and the reason shows in the report.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tarfile
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tests.conformance.data import BIG_NAME, TREE, big_chunks
from tests.services import require_services

RUN = uuid.uuid4().hex[:8]  # one per test session: buckets, dirs and repos never collide

NO_EMPTY_DIRS = (
    "object stores have no directories: a 'directory' is a key prefix, it exists only "
    "while an object is under it, so mkdir() creates nothing visible"
)
IN_RAM = "a memory mount keeps every file in RAM: storing 50 MiB holds 50 MiB"
WHOLE_BLOB = (
    "libgit2 inflates a blob whole before handing it out (git stores each file as one "
    "zlib stream), so reading a 50 MiB file holds 50 MiB"
)


@dataclass
class Target:
    """One backend under test."""

    name: str
    service: str | None = None
    writable: bool = False
    deviations: dict[str, str] = field(default_factory=dict)

    def deviation(self, key: str) -> str | None:
        return self.deviations.get(key)

    def env(self) -> dict[str, str]:
        return require_services(self.service) if self.service else {}


WRITABLE = [
    Target("local", writable=True),
    Target("memory", writable=True, deviations={"big_write_memory": IN_RAM}),
    Target("s3", "s3", True, {"empty_dirs": NO_EMPTY_DIRS}),
    # the same S3 server through obstore (the mount's `client: obstore`)
    Target("s3-obstore", "s3", True, {"empty_dirs": NO_EMPTY_DIRS}),
    Target("gcs", "gcs", True, {"empty_dirs": NO_EMPTY_DIRS}),
    Target("azure", "azure", True, {"empty_dirs": NO_EMPTY_DIRS}),
    Target("sftp", "sftp", True),
    Target("smb", "smb", True),
    Target("webdav", "webdav", True),
]
READ_ONLY = [
    Target("http", "http"),
    Target("zip"),
    Target("tar"),
    Target("tar.gz"),
    Target("tar.bz2"),
    Target("tar.xz"),
    Target("git", "git", deviations={"big_memory": WHOLE_BLOB}),
    Target("github", "github"),
    Target("libarchive-7z", "libarchive"),
    Target("libarchive-iso", "libarchive"),
]
ALL = WRITABLE + READ_ONLY
BY_NAME = {t.name: t for t in ALL}


# ---------------------------------------------------------------- writable mounts
_made: set[str] = set()


def _once(key: str, make: Callable[[], Any]) -> None:
    if key not in _made:
        make()
        _made.add(key)


def s3_options(env: dict[str, str]) -> dict[str, Any]:
    return {
        "key": env["SVC_S3_KEY"],
        "secret": env["SVC_S3_SECRET"],
        "endpoint_url": env["SVC_S3_ENDPOINT"],
    }


def s3_fs(env: dict[str, str]) -> Any:
    import s3fs

    return s3fs.S3FileSystem(
        key=env["SVC_S3_KEY"],
        secret=env["SVC_S3_SECRET"],
        endpoint_url=env["SVC_S3_ENDPOINT"],
        skip_instance_cache=True,
    )


def gcs_fs(env: dict[str, str]) -> Any:
    import gcsfs

    return gcsfs.GCSFileSystem(
        endpoint_url=env["SVC_GCS_ENDPOINT"], token="anon", project="test", skip_instance_cache=True
    )


def azure_fs(env: dict[str, str]) -> Any:
    from adlfs import AzureBlobFileSystem

    return AzureBlobFileSystem(
        connection_string=env["SVC_AZURE_CONNECTION_STRING"], skip_instance_cache=True
    )


def azure_options(env: dict[str, str]) -> dict[str, Any]:
    return {
        "account_name": "devstoreaccount1",
        "connection_string": env["SVC_AZURE_CONNECTION_STRING"],
    }


def bucket_name(kind: str) -> str:
    return f"genro-{kind}-{RUN}"


def writable_config(target: Target, env: dict[str, str], tmp: Path) -> dict[str, Any]:
    """A mount config rooted in a fresh, empty place of ``target``."""
    unique = f"t-{uuid.uuid4().hex[:10]}"
    name = target.name
    if name == "local":
        root = tmp / unique
        root.mkdir(parents=True)
        return {"type": "local", "path": str(root)}
    if name == "memory":
        return {"type": "memory", "base_path": f"conformance/{unique}"}
    if name in ("s3", "s3-obstore"):
        bucket = bucket_name("s3")
        _once(bucket, lambda: s3_fs(env).mkdir(bucket))
        client = {"client": "obstore"} if name == "s3-obstore" else {}
        return {"type": "s3", "bucket": bucket, "prefix": unique, **s3_options(env), **client}
    if name == "gcs":
        bucket = bucket_name("gcs")
        _once(bucket, lambda: gcs_fs(env).mkdir(bucket))
        return {
            "type": "gcs",
            "bucket": bucket,
            "prefix": unique,
            "token": "anon",
            "project": "test",
            "endpoint_url": env["SVC_GCS_ENDPOINT"],
        }
    if name == "azure":
        container = bucket_name("az")
        _once(container, lambda: azure_fs(env).mkdir(container))
        return {"type": "azure", "container": container, "prefix": unique, **azure_options(env)}
    if name == "sftp":
        root = Path(env["SVC_SFTP_ROOT"]) / f"conf-{RUN}" / unique
        return {**sftp_options(env), "path": str(root), "_mkdir": True}
    if name == "smb":
        return {**smb_options(env), "path": f"conf-{RUN}/{unique}", "_mkdir": True}
    if name == "webdav":
        return {**webdav_options(env), "path": f"conf-{RUN}/{unique}", "_mkdir": True}
    raise ValueError(name)


def sftp_options(env: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "sftp",
        "host": env["SVC_SFTP_HOST"],
        "port": int(env["SVC_SFTP_PORT"]),
        "username": env["SVC_SFTP_USER"],
        "password": env["SVC_SFTP_PASSWORD"],
    }


def smb_options(env: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "smb",
        "host": env["SVC_SMB_HOST"],
        "port": int(env["SVC_SMB_PORT"]),
        "share": env["SVC_SMB_SHARE"],
        "username": env["SVC_SMB_USER"],
        "password": env["SVC_SMB_PASSWORD"],
    }


def webdav_options(env: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "webdav",
        "url": env["SVC_WEBDAV_URL"],
        "username": env["SVC_WEBDAV_USER"],
        "password": env["SVC_WEBDAV_PASSWORD"],
    }


# ---------------------------------------------------------------- read-only fixtures
def write_tree(root: Path, big: bool = True) -> Path:
    """TREE (and the big file) under ``root/tree`` on local disk; returns ``root``."""
    for rel, data in TREE.items():
        path = root / "tree" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if big:
        path = root / "tree" / BIG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            for chunk in big_chunks():
                fh.write(chunk)
    for folder in (root, *root.rglob("*")):
        if folder.is_dir():
            folder.chmod(0o755)
        else:
            folder.chmod(0o644)
    return root


def read_only_config(target: Target, env: dict[str, str], tmp: Path) -> dict[str, Any]:
    """Build the read fixture in ``target``'s format; return the mount config."""
    name = target.name
    if name == "http":
        unique = f"conf-{RUN}-{uuid.uuid4().hex[:6]}"
        write_tree(Path(env["SVC_HTTP_ROOT"]) / unique)
        return {"type": "http", "base_url": f"{env['SVC_HTTP_URL']}/{unique}"}
    src = write_tree(tmp / "src")
    if name == "zip":
        archive = tmp / "tree.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for path in sorted((src / "tree").rglob("*")):
                zf.write(path, path.relative_to(src).as_posix())
        return {"type": "zip", "file": str(archive)}
    if name.startswith("tar"):
        suffix = name[3:]
        archive = tmp / f"tree{suffix or '.tar'}"
        mode = {"": "w", ".gz": "w:gz", ".bz2": "w:bz2", ".xz": "w:xz"}[suffix]
        level = {"": {}, ".gz": {"compresslevel": 1}, ".bz2": {"compresslevel": 1}}
        with tarfile.open(archive, mode, **level.get(suffix, {"preset": 0})) as tf:
            tf.add(src / "tree", "tree")
        return {"type": "tar", "file": str(archive)}
    if name.startswith("libarchive"):
        kind = name.split("-")[1]
        archive = tmp / f"tree.{kind}"
        fmt = {"7z": "7zip", "iso": "iso9660"}[kind]
        options = ["--options", "7zip:compression-level=1"] if kind == "7z" else []
        command = ["bsdtar", "--format", fmt, *options, "-cf", str(archive), "tree"]
        subprocess.run(command, cwd=src, check=True)
        return {"type": "libarchive", "file": str(archive)}
    if name == "git":
        repo = tmp / "repo"
        shutil.copytree(src, repo)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "tree"]):
            subprocess.run([*git, *args], cwd=repo, check=True)
        return {"type": "git", "path": str(repo), "ref": "main"}
    if name == "github":
        api, repo = env["SVC_GITHUB_API"], f"conf-{RUN}-{uuid.uuid4().hex[:6]}"
        for path in sorted((src / "tree").rglob("*")):
            if path.is_file():
                github_put(api, "genro", repo, path.relative_to(src).as_posix(), path.read_bytes())
        return {"type": "github", "org": "genro", "repo": repo, "ref": "main", "api_url": api}
    raise ValueError(name)


def github_put(api: str, org: str, repo: str, path: str, data: bytes) -> None:
    """Commit one file through the stand-in's contents API (as GitHub's PUT does)."""
    body = json.dumps({"message": f"add {path}", "content": base64.b64encode(data).decode()})
    url = f"{api}/repos/{org}/{repo}/contents/{urllib.request.quote(path)}"
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="PUT",
        headers={"Authorization": "token test", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        answer.read()


@contextlib.contextmanager
def mounted(kind: str, tmp: Path, name: str = "m") -> Iterator[Any]:
    """A ``StorageManager`` with the backend ``kind`` mounted as ``name``, in a fresh place
    (writable targets) or on the read fixture; closed on exit."""
    from genro_storage import StorageManager

    target = BY_NAME[kind]
    config = (writable_config if target.writable else read_only_config)(target, target.env(), tmp)
    make_root = config.pop("_mkdir", False)
    manager = StorageManager(env=False)
    manager.configure([{"name": name, **config}])
    if make_root:
        manager.node(f"{name}:").mkdir(parents=True, exist_ok=True)
    try:
        yield manager
    finally:
        manager.close()
