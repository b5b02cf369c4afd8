"""Start-up of the command line: a command imports the drivers of the mounts it touches only.

Each case runs ``genro_storage.cli.main`` in a fresh interpreter (imports are per process)
and reads back which modules it loaded; timing is measured in bench/, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.backends.registry import BACKENDS, register_backend
from genro_storage.errors import MissingDependencyError

ROOT = Path(__file__).resolve().parent.parent

#: third-party packages no local command needs (drivers, web frameworks, YAML aside)
DRIVERS = (
    "s3fs",
    "botocore",
    "aiobotocore",
    "boto3",
    "gcsfs",
    "google",
    "adlfs",
    "azure",
    "paramiko",
    "smbprotocol",
    "webdav4",
    "pygit2",
    "aiohttp",
    "requests",
    "django",
    "starlette",
    "uvicorn",
    "fsspec",
)
#: what `--version` must not load either: the library's own layers and libraries
LIBRARY = ("yaml", "tenacity", "asyncer", "anyio", "wsgiref", "tqdm", "multipart")

_PROBE = """
import json, sys
from genro_storage.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _run(tmp_path: Path, *argv: str) -> tuple[int, set[str], set[str]]:
    """Run one command in a fresh interpreter: its exit status, top-level packages, modules."""
    env = {k: v for k, v in os.environ.items() if k != "GENRO_STORAGE_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    modules = set(report["modules"])
    return int(report["code"] or 0), {m.split(".")[0] for m in modules}, modules


def _config(tmp_path: Path, extra: str = "") -> Path:
    """A config with a local mount and one mount of every network type (never reached)."""
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "a.txt").write_text("a")
    config = tmp_path / "mounts.yaml"
    config.write_text(
        f"- name: home\n  type: local\n  path: {tmp_path / 'home'}\n"
        "- name: s3\n  type: s3\n  bucket: b\n  endpoint_url: http://127.0.0.1:9\n"
        "- name: gcs\n  type: gcs\n  bucket: b\n  endpoint_url: http://127.0.0.1:9\n"
        "- name: az\n  type: azure\n  container: c\n  account_name: devstoreaccount1\n"
        "- name: sftp\n  type: sftp\n  host: 127.0.0.1\n  port: 9\n  username: u\n"
        "- name: smb\n  type: smb\n  host: 127.0.0.1\n  share: s\n"
        "- name: dav\n  type: webdav\n  url: http://127.0.0.1:9\n"
        "- name: web\n  type: http\n  base_url: http://127.0.0.1:9\n"
        "- name: pub\n  path: 'home:'\n  permissions: readonly\n" + extra
    )
    return config


def test_version_loads_no_backend_and_no_driver(tmp_path: Path) -> None:
    code, packages, modules = _run(tmp_path, "--version")
    assert code == 0
    assert not packages & {*DRIVERS, *LIBRARY}, packages & {*DRIVERS, *LIBRARY}
    loaded = {m for m in modules if m.startswith("genro_storage.")}
    layers = ("genro_storage.backends", "genro_storage.engine")
    assert not {m for m in loaded if m.startswith(layers)}
    assert "genro_storage.manager" not in loaded and "genro_storage.node" not in loaded


def test_help_loads_no_driver(tmp_path: Path) -> None:
    code, packages, _ = _run(tmp_path, "--help")
    assert code == 0
    assert not packages & set(DRIVERS)


def test_ls_on_a_local_mount_imports_no_driver_of_the_other_mounts(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, packages, modules = _run(tmp_path, "-c", str(config), "ls", "-l", "home:")
    assert code == 0
    assert not packages & set(DRIVERS), packages & set(DRIVERS)
    # nor the retry and event-loop machinery that only network mounts use
    assert not packages & {"tenacity", "tornado", "asyncio"}, packages & {"tenacity", "asyncio"}
    assert "genro_storage.backends.local" in modules
    for family in ("s3", "gcs", "azure", "sftp", "smb", "webdav", "http", "fsspec"):
        assert f"genro_storage.backends.{family}" not in modules


def test_a_plain_local_path_and_a_relative_mount_stay_local(tmp_path: Path) -> None:
    config = _config(tmp_path)
    for argv in (("ls", str(tmp_path / "home")), ("cat", "pub:a.txt"), ("ls",), ("mounts",)):
        code, packages, _ = _run(tmp_path, "-c", str(config), *argv)
        assert code == 0, argv
        assert not packages & set(DRIVERS), (argv, packages & set(DRIVERS))


def test_a_copy_between_local_paths_imports_no_driver(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, packages, _ = _run(tmp_path, "-c", str(config), "cp", "home:a.txt", "home:b.txt")
    assert code == 0
    assert (tmp_path / "home" / "b.txt").read_text() == "a"
    assert not packages & set(DRIVERS), packages & set(DRIVERS)


def test_a_broken_mount_does_not_stop_commands_on_the_others(tmp_path: Path) -> None:
    """An unusable mount (driver missing) fails where it is used, naming it, not elsewhere."""
    extra = "- name: odd\n  type: zip\n  file: /nonexistent/x.zip\n"
    config = _config(tmp_path, extra)
    code, _, _ = _run(tmp_path, "-c", str(config), "cat", "home:a.txt")
    assert code == 0
    result = subprocess.run(
        [sys.executable, "-m", "genro_storage", "-c", str(config), "ls", "odd:"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert result.stderr.startswith("genro-storage: error: ") and "Traceback" not in result.stderr


def test_a_bad_key_is_still_reported_before_anything_runs(tmp_path: Path) -> None:
    config = _config(tmp_path, "- name: bad\n  type: s3\n  bucket: b\n  regoin: x\n")
    code, packages, _ = _run(tmp_path, "-c", str(config), "ls", "home:")
    assert code == 3
    assert not packages & set(DRIVERS)


@pytest.mark.services
def test_ls_s3_imports_the_s3_driver_only(tmp_path: Path) -> None:
    from tests.remote import make_bucket
    from tests.services import require_services

    env = require_services("s3")
    bucket = make_bucket(env, "start")
    s3 = (
        f"- name: s3\n  type: s3\n  bucket: {bucket}\n"
        f"  endpoint_url: {env['SVC_S3_ENDPOINT']}\n"
        f"  key: {env['SVC_S3_KEY']}\n  secret: {env['SVC_S3_SECRET']}\n"
    )
    old = "- name: s3\n  type: s3\n  bucket: b\n  endpoint_url: http://127.0.0.1:9\n"
    config = _config(tmp_path).read_text().replace(old, s3)
    (tmp_path / "mounts.yaml").write_text(config)
    code, packages, _ = _run(tmp_path, "-c", str(tmp_path / "mounts.yaml"), "ls", "s3:")
    assert code == 0
    assert {"s3fs", "botocore"} <= packages
    others = {"gcsfs", "adlfs", "azure", "paramiko", "smbprotocol", "webdav4", "django"}
    assert not packages & others, packages & others


# ---------------------------------------------------------------------- the lazy manager
@pytest.fixture
def counted() -> Any:
    built: list[str] = []

    def factory(config: dict[str, Any], mount_name: str) -> Any:
        from genro_storage.backends.memory import create

        built.append(mount_name)
        return create({"type": "memory", "base_path": f"/counted-{uuid.uuid4().hex}"}, mount_name)

    register_backend("counted", factory, replace=True)
    register_backend("needs", factory, imports=("no_such_module_xyz",), replace=True)
    yield built
    BACKENDS.pop("counted", None)
    BACKENDS.pop("needs", None)


def test_a_lazy_manager_builds_a_mount_on_first_use(counted: list[str]) -> None:
    manager = StorageManager(env=False, lazy=True)
    manager.configure(
        [
            {"name": "a", "type": "counted"},
            {"name": "b", "type": "counted"},
            {"name": "rel", "path": "b:sub", "permissions": "readonly"},
        ]
    )
    assert counted == [] and manager.get_mount_names() == ["a", "b", "rel"]
    assert "a" in manager and manager.mount_config("a")["type"] == "counted"
    manager.node("a:x.txt").write_text("x")
    assert counted == ["a"]
    assert manager.node("a:x.txt").read_text() == "x" and counted == ["a"]
    assert not manager.node("rel:y").exists
    assert counted == ["a", "b"]  # the relative mount built its parent
    manager.close()


def test_a_lazy_manager_reports_a_missing_driver_at_first_use(counted: list[str]) -> None:
    manager = StorageManager(env=False, lazy=True)
    manager.configure([{"name": "ok", "type": "counted"}, {"name": "n", "type": "needs"}])
    manager.node("ok:f").write_text("fine")
    with pytest.raises(MissingDependencyError, match=r"Mount 'n'.*no_such_module_xyz"):
        manager.node("n:f")
    eager = StorageManager(env=False)
    with pytest.raises(MissingDependencyError):
        eager.configure([{"name": "n", "type": "needs"}])


def test_a_lazy_manager_still_checks_keys_and_parents_at_configure(counted: list[str]) -> None:
    from genro_storage.errors import StorageConfigError

    manager = StorageManager(env=False, lazy=True)
    with pytest.raises(StorageConfigError, match="missing required field: 'bucket'"):
        manager.configure([{"name": "s", "type": "s3"}])
    with pytest.raises(StorageConfigError, match="Parent mount 'zz' not found"):
        manager.configure([{"name": "r", "path": "zz:sub"}])
    assert manager.get_mount_names() == []


def test_reconfiguring_a_lazy_mount_uses_the_new_options(
    counted: list[str], tmp_path: Path
) -> None:
    manager = StorageManager(env=False, lazy=True)
    manager.configure([{"name": "a", "type": "local", "path": str(tmp_path)}])
    manager.node("a:f").write_text("old")
    manager.configure([{"name": "a", "type": "counted"}])
    assert not manager.node("a:f").exists and counted == ["a"]
    manager.remove_mount("a")
    assert "a" not in manager
