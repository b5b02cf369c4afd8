"""GenroStorage against Django's own storage expectations.

The ``store`` fixture runs every expectation on Django's ``FileSystemStorage`` (the
reference: whatever it does is what Django expects) and on GenroStorage over a local
folder, a memory store and an S3 bucket (moto). The cases follow Django's
``tests/file_storage`` suite where they apply to a custom storage.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("django")

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage

from genro_storage.integrations.django import GenroStorage, get_manager
from tests.integrations._django_helpers import KINDS, mount_config, prepare

STORES = ("django-filesystem", *(f"genro-{k}" for k in KINDS))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, settings, tmp_path: Path) -> Storage:
    kind = request.param
    if kind == "django-filesystem":
        return FileSystemStorage(location=tmp_path / "reference", base_url="/media/")
    settings.GENRO_STORAGE_MOUNTS = [mount_config(kind.split("-", 1)[1], "m", tmp_path)]
    return prepare(GenroStorage(mount="m", base_url="/media/"))


def read(store: Storage, name: str) -> bytes:
    with store.open(name, "rb") as fh:
        return fh.read()


def is_genro_remote(store: Storage) -> bool:
    return isinstance(store, GenroStorage) and store.node("").os_path is None


# ---------------------------------------------------------------- access
def test_file_access_options(store: Storage) -> None:
    assert not store.exists("storage_test")
    name = store.save("storage_test", ContentFile(b"storage contents"))
    assert name == "storage_test"
    assert store.exists("storage_test")
    with store.open("storage_test", "rb") as fh:
        assert fh.read() == b"storage contents"
    store.delete("storage_test")
    assert not store.exists("storage_test")


def test_open_returns_a_django_file_with_its_name(store: Storage) -> None:
    store.save("dir/x.txt", ContentFile(b"abc"))
    fh = store.open("dir/x.txt")
    try:
        assert isinstance(fh, File)
        assert fh.name.endswith("dir/x.txt")  # FileSystemStorage gives the full path
        assert b"".join(fh.chunks(chunk_size=2)) == b"abc"
    finally:
        fh.close()


def test_open_missing_file_raises_file_not_found(store: Storage) -> None:
    with pytest.raises(FileNotFoundError):
        store.open("nope.txt")


def test_file_save_without_name(store: Storage) -> None:
    content = File(io.BytesIO(b"custom contents"), name="test.file")
    assert store.save(None, content) == "test.file"
    assert read(store, "test.file") == b"custom contents"


def test_file_save_with_path(store: Storage) -> None:
    assert not store.exists("path/to")
    store.save("path/to/test.file", ContentFile(b"file saved with path"))
    assert store.exists("path/to")
    assert read(store, "path/to/test.file") == b"file saved with path"


def test_save_does_not_close_the_content(store: Storage) -> None:
    content = ContentFile(b"x" * 1000, name="kept-open.bin")
    store.save("kept-open.bin", content)
    assert not content.closed


def test_empty_content(store: Storage) -> None:
    name = store.save("empty.bin", ContentFile(b""))
    assert store.exists(name)
    assert store.size(name) == 0


def test_size(store: Storage) -> None:
    store.save("sized.bin", ContentFile(b"12345"))
    assert store.size("sized.bin") == 5


# ---------------------------------------------------------------- names
def test_duplicate_filename_gets_an_alternative_name(store: Storage) -> None:
    first = store.save("tests/multiple_files.txt", ContentFile(b"1"))
    second = store.save("tests/multiple_files.txt", ContentFile(b"2"))
    assert first == "tests/multiple_files.txt"
    assert re.fullmatch(r"tests/multiple_files_[A-Za-z0-9]{7}\.txt", second)
    assert read(store, first) == b"1"
    assert read(store, second) == b"2"


def test_get_available_name_truncates_to_max_length(store: Storage) -> None:
    store.save("abcdefghij.txt", ContentFile(b"x"))
    name = store.get_available_name("abcdefghij.txt", max_length=20)
    assert len(name) <= 20
    assert name != "abcdefghij.txt"


def test_generate_filename_cleans_the_basename(store: Storage) -> None:
    assert store.generate_filename("some dir/my file?.txt") == "some dir/my_file.txt"


@pytest.mark.parametrize("name", ["..", "../escape.txt", "a/../../b", "/etc/passwd"])
def test_traversal_is_refused(store: Storage, name: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        store.exists(name)


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a/../../b.txt"])
def test_save_refuses_traversal(store: Storage, name: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        store.save(name, ContentFile(b"x"))


def test_delete_without_a_name_raises(store: Storage) -> None:
    with pytest.raises(ValueError):
        store.delete("")


def test_delete_missing_file_is_a_no_op(store: Storage) -> None:
    store.delete("never-existed.txt")


# ---------------------------------------------------------------- listing
def test_listdir(store: Storage) -> None:
    store.save("storage_test_1", ContentFile(b"custom content"))
    store.save("storage_test_2", ContentFile(b"custom content"))
    store.save("storage_dir_1/inner.txt", ContentFile(b"custom content"))
    dirs, files = store.listdir("")
    assert set(dirs) == {"storage_dir_1"}
    assert set(files) == {"storage_test_1", "storage_test_2"}
    dirs, files = store.listdir("storage_dir_1")
    assert (dirs, files) == ([], ["inner.txt"])


# ---------------------------------------------------------------- URLs
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("test.file", "/media/test.file"),
        ("a/b c.txt", "/media/a/b%20c.txt"),
        (r"~!*()'@#$%^&*abc`+ =.file", "/media/~!*()'%40%23%24%25%5E%26*abc%60%2B%20%3D.file"),
        ("a/b\\c.file", "/media/a/b/c.file"),
    ],
)
def test_url_quotes_like_file_system_storage(store: Storage, name: str, expected: str) -> None:
    assert store.url(name) == expected


# ---------------------------------------------------------------- paths and times
def test_path_is_local_only(store: Storage) -> None:
    store.save("p.txt", ContentFile(b"x"))
    if is_genro_remote(store):
        with pytest.raises(NotImplementedError):
            store.path("p.txt")
    else:
        assert Path(store.path("p.txt")).read_bytes() == b"x"


@pytest.mark.parametrize("use_tz", [True, False])
def test_modified_time_honours_use_tz(store: Storage, settings, use_tz: bool) -> None:
    settings.USE_TZ = use_tz
    store.save("t.txt", ContentFile(b"x"))
    when = store.get_modified_time("t.txt")
    if use_tz:
        assert when.tzinfo is not None
        assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=2)
    else:
        assert when.tzinfo is None
        assert abs(datetime.now() - when) < timedelta(minutes=2)


@pytest.mark.parametrize("getter", ["get_accessed_time", "get_created_time"])
def test_accessed_and_created_times(store: Storage, settings, getter: str) -> None:
    settings.USE_TZ = True
    store.save("t.txt", ContentFile(b"x"))
    if is_genro_remote(store):
        with pytest.raises(NotImplementedError):
            getattr(store, getter)("t.txt")
        return
    when = getattr(store, getter)("t.txt")
    assert when.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=2)


def test_modified_time_of_missing_file_raises(store: Storage) -> None:
    with pytest.raises(FileNotFoundError):
        store.get_modified_time("missing.txt")


# ---------------------------------------------------------------- GenroStorage only
@pytest.fixture
def local_mount(settings, tmp_path: Path) -> Path:
    settings.GENRO_STORAGE_MOUNTS = [mount_config("local", "m", tmp_path)]
    return tmp_path / "mount-m"


def test_file_overwrite_saves_over_the_same_name(local_mount: Path) -> None:
    store = GenroStorage(mount="m", file_overwrite=True)
    assert store.save("same.txt", ContentFile(b"one")) == "same.txt"
    assert store.save("same.txt", ContentFile(b"two")) == "same.txt"
    assert (local_mount / "same.txt").read_bytes() == b"two"


def test_exists_stays_truthful_with_file_overwrite(local_mount: Path) -> None:
    store = GenroStorage(mount="m", file_overwrite=True)
    assert not store.exists("x.txt")
    store.save("x.txt", ContentFile(b"x"))
    assert store.exists("x.txt")  # django-storages 1.14.4 answered False here


def test_location_prefixes_every_name(local_mount: Path) -> None:
    store = GenroStorage(mount="m", location="uploads/2024")
    store.save("a.txt", ContentFile(b"x"))
    assert (local_mount / "uploads/2024/a.txt").read_bytes() == b"x"
    assert store.listdir("") == ([], ["a.txt"])


def test_options_fall_back_to_prefixed_settings(local_mount: Path, settings) -> None:
    settings.GENRO_STORAGE_MOUNT = "m"
    settings.GENRO_STORAGE_FILE_OVERWRITE = True
    store = GenroStorage()  # what the legacy DEFAULT_FILE_STORAGE does: no arguments
    assert store.mount == "m"
    assert store.file_overwrite
    assert not GenroStorage(file_overwrite=False).file_overwrite  # OPTIONS win


def test_unknown_option_is_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match="unknown option"):
        GenroStorage(mount="m", bucket_name="x")


def test_missing_mount_is_improperly_configured(local_mount: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="needs a mount"):
        GenroStorage().exists("x")
    with pytest.raises(ImproperlyConfigured, match="not in GENRO_STORAGE_MOUNTS"):
        GenroStorage(mount="other").exists("x")


def test_traversing_location_is_improperly_configured(local_mount: Path) -> None:
    with pytest.raises(ImproperlyConfigured):
        GenroStorage(mount="m", location="../up").exists("x")


def test_genro_storage_setting_accepts_a_yaml_path(settings, tmp_path: Path) -> None:
    root = tmp_path / "yaml-root"
    root.mkdir()
    config = tmp_path / "mounts.yaml"
    config.write_text(f"- name: fromyaml\n  type: local\n  path: {root}\n", encoding="utf-8")
    settings.GENRO_STORAGE_MOUNTS = str(config)
    GenroStorage(mount="fromyaml").save("y.txt", ContentFile(b"y"))
    assert (root / "y.txt").read_bytes() == b"y"


def test_broken_genro_storage_setting_is_improperly_configured(settings) -> None:
    settings.GENRO_STORAGE_MOUNTS = [{"name": "bad", "type": "nosuchtype"}]
    with pytest.raises(ImproperlyConfigured, match="GENRO_STORAGE_MOUNTS"):
        get_manager()


def test_setting_changed_rebuilds_the_manager(settings, tmp_path: Path) -> None:
    settings.GENRO_STORAGE_MOUNTS = [mount_config("local", "first", tmp_path)]
    assert get_manager().get_mount_names() == ["first"]
    settings.GENRO_STORAGE_MOUNTS = [mount_config("local", "second", tmp_path)]
    assert get_manager().get_mount_names() == ["second"]


def test_storage_options_follow_setting_changes(local_mount: Path, settings) -> None:
    store = GenroStorage()
    settings.GENRO_STORAGE_MOUNT = "m"
    assert store.mount == "m"
    settings.GENRO_STORAGE_LOCATION = "sub"
    assert store.location == "sub"


def test_deconstruct_points_at_the_public_path() -> None:
    path, args, kwargs = GenroStorage(mount="m", location="x").deconstruct()
    assert path == "genro_storage.integrations.django.GenroStorage"
    assert (args, kwargs) == ((), {"mount": "m", "location": "x"})


def test_delete_refuses_a_non_empty_directory(local_mount: Path) -> None:
    store = GenroStorage(mount="m")
    store.save("d/f.txt", ContentFile(b"x"))
    with pytest.raises(OSError):
        store.delete("d")
    assert store.exists("d/f.txt")


def test_url_without_base_url_or_serve_raises(local_mount: Path, settings) -> None:
    settings.GENRO_STORAGE_SERVE = {}
    with pytest.raises(ValueError, match="not accessible via a URL"):
        GenroStorage(mount="m").url("a.txt")


def test_url_points_at_the_serve_view(local_mount: Path, settings) -> None:
    settings.GENRO_STORAGE_SERVE = {"m": {}}
    assert GenroStorage(mount="m", location="up").url("a b.txt") == "/files/m/up/a%20b.txt"


def test_url_of_a_private_mount_is_signed(local_mount: Path, settings) -> None:
    settings.GENRO_STORAGE_SERVE = {"m": {"private": True}}
    url = GenroStorage(mount="m", querystring_expire=60).url("a.txt")
    assert re.fullmatch(r"/files/m/a\.txt\?expires=\d+&signature=[\w-]+", url)


def test_system_check_reports_broken_settings(settings) -> None:
    from django.core import checks

    settings.GENRO_STORAGE_SERVE = {"nosuchmount": {}}
    errors = [m for m in checks.run_checks() if m.id == "genro_storage.E001"]
    assert errors and "nosuchmount" in errors[0].msg
    settings.GENRO_STORAGE_SERVE = {"media": {}}
    assert not [m for m in checks.run_checks() if m.id.startswith("genro_storage")]


@pytest.mark.parametrize("kind", KINDS)
def test_listdir_of_an_empty_mount(kind: str, settings, tmp_path: Path) -> None:
    settings.GENRO_STORAGE_MOUNTS = [mount_config(kind, "m", tmp_path)]
    store = GenroStorage(mount="m", location="never/used")
    assert store.listdir("") == ([], [])


# ---------------------------------------------------------------- names up to 255 bytes
@pytest.mark.parametrize("length", [242, 248, 255])
@pytest.mark.parametrize("stem", ["n", "é"], ids=["ascii", "two-byte"])
def test_names_up_to_255_bytes_can_be_saved_again_on_a_local_mount(
    settings, tmp_path: Path, length: int, stem: str
) -> None:
    """A file name of 242 to 255 bytes (the most a local file system takes): saved over
    with ``file_overwrite`` (django-storages' ``AWS_S3_FILE_OVERWRITE``), and saved again
    without it, when ``get_available_name`` must find a free name that still fits."""
    root = tmp_path / "local"
    root.mkdir()
    settings.GENRO_STORAGE_MOUNTS = [{"name": "m", "type": "local", "path": str(root)}]
    base = stem * ((length - 4) // len(stem.encode()))
    name = f"deep/{base}{'n' * (length - 4 - len(base.encode()))}.txt"
    assert len(name.rsplit("/", 1)[1].encode()) == length

    overwriting = GenroStorage(mount="m", file_overwrite=True)
    assert overwriting.save(name, ContentFile(b"first")) == name
    assert overwriting.save(name, ContentFile(b"second")) == name
    with overwriting.open(name, "wb") as fh:
        fh.write(b"third")
    assert read(overwriting, name) == b"third"
    assert overwriting.listdir("deep") == ([], [name.rsplit("/", 1)[1]])  # no temp file left

    keeping = GenroStorage(mount="m")
    other = keeping.save(name, ContentFile(b"kept apart"))
    assert other != name and other.startswith("deep/") and other.endswith(".txt")
    assert len(other.rsplit("/", 1)[1].encode()) <= 255
    assert (read(keeping, name), read(keeping, other)) == (b"third", b"kept apart")
    with_limit = keeping.save(name, ContentFile(b"limited"), max_length=len(name))
    assert len(with_limit) <= len(name) and read(keeping, with_limit) == b"limited"
    assert len(keeping.listdir("deep")[1]) == 3
