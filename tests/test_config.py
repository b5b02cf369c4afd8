"""configure(): sources (list, YAML, JSON, Path), validation errors that name key/file/line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genro_storage import StorageConfigError, StorageManager
from genro_storage.errors import MissingDependencyError, UnknownBackendError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_configure_from_yaml_file(tmp_path: Path) -> None:
    cfg = write(
        tmp_path,
        "mounts.yaml",
        f"- name: home\n  type: local\n  path: {tmp_path}\n- name: scratch\n  type: memory\n",
    )
    storage = StorageManager()
    storage.configure(str(cfg))
    assert storage.get_mount_names() == ["home", "scratch"]


@pytest.mark.parametrize("suffix", [".yml", ".YAML"])
def test_configure_accepts_yaml_suffixes_case_insensitively(tmp_path: Path, suffix: str) -> None:
    cfg = write(tmp_path, f"m{suffix}", "- {name: a, type: memory}\n")
    storage = StorageManager()
    storage.configure(str(cfg))
    assert storage.has_mount("a")


def test_configure_from_json_file_and_pathlib_path(tmp_path: Path) -> None:
    cfg = write(tmp_path, "m.json", json.dumps([{"name": "a", "type": "memory"}]))
    storage = StorageManager()
    storage.configure(cfg)
    assert storage.has_mount("a")


def test_protocol_is_a_synonym_of_type() -> None:
    storage = StorageManager()
    storage.configure([{"name": "a", "protocol": "memory"}])
    assert storage.node("a:x").capabilities.temporary is True


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Configuration file not found"):
        StorageManager().configure(str(tmp_path / "nope.yaml"))


def test_unsupported_suffix(tmp_path: Path) -> None:
    cfg = write(tmp_path, "m.toml", "x = 1")
    with pytest.raises(StorageConfigError, match="Unsupported configuration file format"):
        StorageManager().configure(str(cfg))


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, "bad.yaml", "- name: a\n  type: memory\n- name: [unclosed\n")
    with pytest.raises(StorageConfigError) as info:
        StorageManager().configure(str(cfg))
    message = str(info.value)
    assert "Failed to parse YAML file" in message
    assert "bad.yaml" in message
    assert "line 4" in message or "line 3" in message


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, "bad.json", '[\n  {"name": "a",\n   "type": memory}\n]')
    with pytest.raises(StorageConfigError, match=r"Failed to parse JSON file .*bad\.json, line 3"):
        StorageManager().configure(str(cfg))


def test_validation_error_in_yaml_names_file_line_and_key(tmp_path: Path) -> None:
    cfg = write(tmp_path, "m.yaml", "- name: ok\n  type: memory\n\n- name: up\n  type: s3\n")
    with pytest.raises(StorageConfigError) as info:
        StorageManager().configure(str(cfg))
    message = str(info.value)
    assert "missing required field: 'bucket'" in message
    assert "m.yaml, line 4" in message
    assert "'up'" in message


def test_validation_error_in_json_names_the_line(tmp_path: Path) -> None:
    text = '[\n {"name": "a", "type": "memory"},\n\n {"name": "b", "type": "gcs"}\n]'
    cfg = write(tmp_path, "m.json", text)
    with pytest.raises(StorageConfigError, match=r"m\.json, line 4"):
        StorageManager().configure(str(cfg))


@pytest.mark.parametrize(("text", "kind"), [("a: 1\n", "dict"), ("", "NoneType")])
def test_top_level_must_be_a_list(tmp_path: Path, text: str, kind: str) -> None:
    cfg = write(tmp_path, "m.yaml", text)
    with pytest.raises(StorageConfigError, match=f"must be a list of mount configs, got {kind}"):
        StorageManager().configure(str(cfg))


@pytest.mark.parametrize("source", [{"name": "a"}, ("a",), 3])
def test_other_source_types_raise_type_error(source: object) -> None:
    with pytest.raises(TypeError):
        StorageManager().configure(source)  # type: ignore[arg-type]


def test_missing_name() -> None:
    with pytest.raises(StorageConfigError, match="missing required field: 'name'"):
        StorageManager().configure([{"type": "memory"}])


def test_missing_type() -> None:
    with pytest.raises(StorageConfigError, match="missing required field: 'type'"):
        StorageManager().configure([{"name": "x"}])


def test_unknown_type_lists_the_supported_ones() -> None:
    with pytest.raises(UnknownBackendError) as info:
        StorageManager().configure([{"name": "x", "type": "ftp"}])
    message = str(info.value)
    assert message.startswith("Unknown storage type 'ftp' for mount 'x'")
    for known in ("local", "s3", "gcs", "azure", "libarchive", "github"):
        assert known in message


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"type": "local"}, "path"),
        ({"type": "s3"}, "bucket"),
        ({"type": "gcs"}, "bucket"),
        ({"type": "azure"}, "container"),
        ({"type": "azure", "container": "c"}, "account_name"),
        ({"type": "http"}, "base_url"),
        ({"type": "smb"}, "host"),
        ({"type": "smb", "host": "h"}, "share"),
        ({"type": "sftp"}, "host"),
        ({"type": "sftp", "host": "h"}, "username"),
        ({"type": "zip"}, "file"),
        ({"type": "tar"}, "file"),
        ({"type": "git"}, "path"),
        ({"type": "github"}, "org"),
        ({"type": "github", "org": "o"}, "repo"),
        ({"type": "webdav"}, "url"),
        ({"type": "libarchive"}, "file"),
    ],
)
def test_required_keys_are_checked_before_any_driver_import(config: dict, key: str) -> None:
    with pytest.raises(StorageConfigError, match=f"missing required field: '{key}'"):
        StorageManager().configure([{"name": "m", **config}])


def test_missing_extra_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(MissingDependencyError) as info:
        StorageManager().configure([{"name": "up", "type": "s3", "bucket": "b"}])
    assert "pip install 'genro-storage[s3]'" in str(info.value)
    assert "'up'" in str(info.value)
    assert isinstance(info.value, ImportError)


def test_invalid_permissions_value() -> None:
    with pytest.raises(StorageConfigError, match="Invalid permissions 'all' for mount 'x'"):
        StorageManager().configure([{"name": "x", "type": "memory", "permissions": "all"}])


@pytest.mark.parametrize("name", [":bad", "a/b", 3])
def test_invalid_mount_names(name: object) -> None:
    with pytest.raises(StorageConfigError):
        StorageManager().configure([{"name": name, "type": "memory"}])


def test_failed_configure_changes_nothing(tmp_path: Path) -> None:
    storage = StorageManager()
    storage.configure([{"name": "keep", "type": "memory"}])
    with pytest.raises(StorageConfigError):
        storage.configure([{"name": "new", "type": "memory"}, {"name": "bad", "type": "s3"}])
    assert storage.get_mount_names() == ["keep"]


def test_windows_style_path_is_not_a_relative_mount(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="absolute"):
        StorageManager().configure([{"name": "w", "type": "local", "path": "C:\\data"}])


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [("relative/dir", ValueError, "absolute"), ("/does/not/exist/x", FileNotFoundError, "exist")],
)
def test_local_path_is_checked_at_configure_time(path: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        StorageManager().configure([{"name": "l", "type": "local", "path": path}])


def test_local_path_must_be_a_directory(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        StorageManager().configure([{"name": "l", "type": "local", "path": str(f)}])


# ---------------------------------------------------------------- issue 11: no silent typo
def test_a_misspelled_key_names_mount_key_file_line_and_suggests(tmp_path: Path) -> None:
    config = tmp_path / "mounts.yaml"
    config.write_text(
        "- name: scratch\n  type: memory\n"
        "- name: up\n  type: s3\n  bucket: b\n  regoin: eu-west-1\n"
    )
    with pytest.raises(StorageConfigError) as info:
        StorageManager(env=False).configure(str(config))
    message = str(info.value)
    assert "Mount 'up': unknown key 'regoin'; did you mean 'region'?" in message
    assert f"{config}, line 6" in message  # the line of the key itself


def test_an_unknown_key_in_code_is_refused_too() -> None:
    with pytest.raises(
        StorageConfigError, match="unknown key 'base_pth'; did you mean 'base_path'"
    ):
        StorageManager(env=False).configure([{"name": "m", "type": "memory", "base_pth": "x"}])


def test_duplicate_mount_names_are_refused_with_both_lines(tmp_path: Path) -> None:
    config = tmp_path / "mounts.yaml"
    config.write_text(
        "- name: a\n  type: memory\n- name: b\n  type: memory\n- name: a\n  type: memory\n"
    )
    storage = StorageManager(env=False)
    with pytest.raises(StorageConfigError, match="Mount 'a' is defined twice") as info:
        storage.configure(str(config))
    assert "line 5" in str(info.value) and "first at" in str(info.value)
    assert storage.get_mount_names() == []


@pytest.mark.parametrize(
    ("entry", "key", "what"),
    [
        ({"type": "local", "path": 123}, "path", "a path"),
        ({"type": "sftp", "host": "h", "username": "u", "port": "22"}, "port", "an integer"),
        ({"type": "s3", "bucket": ["b"]}, "bucket", "a string"),
        ({"type": "memory", "base_path": 5}, "base_path", "a string"),
    ],
)
def test_a_value_of_the_wrong_type_names_mount_and_key(entry: dict, key: str, what: str) -> None:
    with pytest.raises(StorageConfigError, match=f"Mount 'w': key '{key}' must be {what}"):
        StorageManager(env=False).configure([{"name": "w", **entry}])


def test_yaml_errors_of_app_configs_name_the_real_file(tmp_path: Path) -> None:
    from genro_storage.serving.app import FileServer

    config = tmp_path / "site.yaml"
    config.write_text("mounts:\n  - name: a\n    type: memory\nserve:\n  /a: [unclosed\n")
    with pytest.raises(StorageConfigError) as info:
        FileServer(str(config))
    assert f'"{config}", line' in str(info.value)
    assert "<unicode string>" not in str(info.value)


def test_mount_errors_of_app_configs_name_file_and_line(tmp_path: Path) -> None:
    from genro_storage.serving.app import FileServer

    config = tmp_path / "site.yaml"
    config.write_text("mounts:\n  - name: a\n    type: memory\n    colour: blue\n")
    with pytest.raises(StorageConfigError, match=f"unknown key 'colour'.*{config}, line 4"):
        FileServer(str(config))


def test_unknown_top_level_key_of_an_app_config(tmp_path: Path) -> None:
    from genro_storage.serving.routes import load_app_config

    config = tmp_path / "site.yaml"
    config.write_text("mounts: []\nserv: {}\n")
    with pytest.raises(
        StorageConfigError, match="unknown top-level key 'serv'; did you mean 'serve'"
    ):
        load_app_config(config)
