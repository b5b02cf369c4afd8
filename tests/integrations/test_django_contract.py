"""Django's Storage contract, as its docs and FileSystemStorage define it, on every backend.

Written from Django's "Writing a custom storage system" and "File storage API" pages and
from what ``FileSystemStorage`` does (Django's ``tests/file_storage``): each case runs on
FileSystemStorage itself (the reference: whatever it does is what Django expects) and on
GenroStorage over a local folder, a memory store, S3 (moto), GCS (fake-gcs), Azure
(Azurite) and SFTP (sshd). ``test_django_storage.py`` holds the rest of the contract over
the same stores. ``test_contract_passes_on_django_42`` runs both files again on Django 4.2
LTS in a child interpreter, over the reference, a folder, a memory store and S3.
"""

from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path

import pytest

pytest.importorskip("django")

import django
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage

from genro_storage.integrations.django import GenroStorage, get_manager
from tests.integrations._django_helpers import (
    CHILD_FLAG,
    KINDS,
    mount_config,
    prepare,
    run_on_django_42,
)

STORES = ("django-filesystem", *(f"genro-{k}" for k in KINDS))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, settings, tmp_path: Path) -> Storage:
    kind = request.param
    if kind == "django-filesystem":
        (tmp_path / "reference").mkdir()
        return FileSystemStorage(location=tmp_path / "reference", base_url="/media/")
    settings.GENRO_STORAGE_MOUNTS = [mount_config(kind.split("-", 1)[1], "m", tmp_path)]
    return prepare(GenroStorage(mount="m", base_url="/media/"))


def read(store: Storage, name: str) -> bytes:
    with store.open(name, "rb") as fh:
        return bytes(fh.read())


# ---------------------------------------------------------------- content kinds
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: ContentFile("héllo\nwörld"), id="ContentFile-str"),
        pytest.param(lambda: ContentFile("héllo\nwörld".encode()), id="ContentFile-bytes"),
        pytest.param(lambda: io.StringIO("héllo\nwörld"), id="StringIO"),
        pytest.param(lambda: io.BytesIO("héllo\nwörld".encode()), id="BytesIO"),
        pytest.param(lambda: File(io.StringIO("héllo\nwörld"), name="t.txt"), id="File-StringIO"),
    ],
)
def test_text_and_bytes_content_are_stored_as_utf8(store: Storage, content) -> None:
    name = store.save("content.txt", content())
    assert read(store, name) == "héllo\nwörld".encode()


def test_text_mode_file_is_stored_as_utf8(store: Storage, tmp_path: Path) -> None:
    source = tmp_path / "source.txt"
    source.write_text("ünïcode text", encoding="utf-8")
    with open(source, encoding="utf-8") as fh:
        name = store.save("from_text_file.txt", File(fh))
    assert read(store, name) == "ünïcode text".encode()


def test_content_read_part_way_is_saved_whole(store: Storage) -> None:
    content = ContentFile(b"0123456789")
    content.read(4)
    name = store.save("whole.txt", content)
    assert read(store, name) == b"0123456789"


def test_open_text_mode_reads_text(store: Storage) -> None:
    store.save("text.txt", ContentFile("çà".encode()))
    with store.open("text.txt", "r") as fh:
        assert fh.read() == "çà"


def test_opened_file_reads_in_chunks(store: Storage) -> None:
    data = os.urandom(200_000)
    store.save("chunks.bin", ContentFile(data))
    with store.open("chunks.bin") as fh:
        assert fh.size == len(data)
        assert b"".join(fh.chunks(chunk_size=65536)) == data


def test_opened_file_can_be_reopened(store: Storage) -> None:
    store.save("again.txt", ContentFile(b"again"))
    fh = store.open("again.txt")
    assert fh.read() == b"again"
    fh.close()
    with fh.open() as again:
        assert again.read() == b"again"


def test_write_mode_file_is_written_on_close(store: Storage) -> None:
    with store.open("written.txt", "wb") as fh:
        fh.write(b"through open")
    assert read(store, "written.txt") == b"through open"


def test_unclosed_write_mode_file_can_be_reopened(store: Storage) -> None:
    fh = store.open("reopened.txt", "wb")
    fh.write(b"first")
    fh.open()  # Django's File.open on an open file rewinds it (seek(0))
    fh.close()
    assert store.exists("reopened.txt")


def test_open_of_a_directory_raises(store: Storage) -> None:
    store.save("folder/inside.txt", ContentFile(b"x"))
    with pytest.raises(OSError):
        store.open("folder").read()


# ---------------------------------------------------------------- "." segments and nesting
@pytest.mark.parametrize("name", ["./a/file.txt", "a/./file.txt", "a//file.txt"])
def test_dot_and_empty_segments_name_the_same_file(store: Storage, name: str) -> None:
    store.save("a/file.txt", ContentFile(b"dot"))
    assert store.exists(name)
    assert read(store, name) == b"dot"
    assert store.size(name) == 3


@pytest.mark.parametrize("root", ["", ".", "./", Path("")])
def test_listdir_of_the_root_by_any_spelling(store: Storage, root) -> None:
    store.save("a/file.txt", ContentFile(b"x"))
    store.save("top.txt", ContentFile(b"x"))
    assert store.listdir(root) == (["a"], ["top.txt"])


def test_save_under_a_dot_segment_stores_the_normal_name(store: Storage) -> None:
    name = store.save("./dotted/f.txt", ContentFile(b"x"))
    assert store.exists("dotted/f.txt")
    assert read(store, name) == b"x"


def test_nested_directories_are_listed_level_by_level(store: Storage) -> None:
    store.save("x/y/z/deep.txt", ContentFile(b"deep"))
    store.save("x/y/side.txt", ContentFile(b"side"))
    assert store.listdir("x") == (["y"], [])
    dirs, files = store.listdir("x/y")
    assert (dirs, sorted(files)) == (["z"], ["side.txt"])
    assert store.listdir("x/y/z") == ([], ["deep.txt"])
    assert read(store, "x/y/z/deep.txt") == b"deep"


def test_listdir_of_a_missing_directory_raises(store: Storage) -> None:
    store.save("present.txt", ContentFile(b"x"))
    with pytest.raises(FileNotFoundError):
        store.listdir("no-such-dir")


# ---------------------------------------------------------------- names
def test_get_alternative_name_adds_seven_random_characters(store: Storage) -> None:
    alternative = store.get_alternative_name("dir/report", ".tar.gz")
    assert re.fullmatch(r"dir/report_[A-Za-z0-9]{7}\.tar\.gz", alternative)
    assert alternative != store.get_alternative_name("dir/report", ".tar.gz")


def test_get_available_name_keeps_the_suffix(store: Storage) -> None:
    store.save("archive.tar.gz", ContentFile(b"x"))
    available = store.get_available_name("archive.tar.gz")
    if django.VERSION >= (5, 1):  # Django 5.1 keeps every suffix, 4.2 the last one
        assert re.fullmatch(r"archive_[A-Za-z0-9]{7}\.tar\.gz", available)
    else:
        assert re.fullmatch(r"archive\.tar_[A-Za-z0-9]{7}\.gz", available)


def test_get_available_name_of_a_free_name_is_the_name(store: Storage) -> None:
    assert store.get_available_name("free/name.txt") == "free/name.txt"


def test_get_available_name_fails_when_max_length_leaves_no_room(store: Storage) -> None:
    store.save("abc.txt", ContentFile(b"x"))
    with pytest.raises(SuspiciousFileOperation):
        store.get_available_name("abc.txt", max_length=9)


def test_save_honours_max_length(store: Storage) -> None:
    store.save("limited.txt", ContentFile(b"1"))
    name = store.save("limited.txt", ContentFile(b"2"), max_length=15)
    assert len(name) <= 15 and name != "limited.txt"
    assert read(store, name) == b"2"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("my file!.txt", "my_file.txt"),
        ("dir/sub/name with spaces.jpg", "dir/sub/name_with_spaces.jpg"),
        ("dir\\sub\\file.txt", "dir/sub/file.txt"),
        ("./a/./b.txt", "a/b.txt"),
    ],
)
def test_generate_filename(store: Storage, given: str, expected: str) -> None:
    assert store.generate_filename(given) == expected


def test_generate_filename_refuses_traversal(store: Storage) -> None:
    with pytest.raises(SuspiciousFileOperation):
        store.generate_filename("../etc/passwd")


def test_get_valid_name() -> None:
    assert GenroStorage(mount="m").get_valid_name("john's portrait in 2004.jpg") == (
        "johns_portrait_in_2004.jpg"
    )


@pytest.mark.parametrize("name", ["..", "a/../../b.txt", "/abs/path.txt", "../x.txt"])
@pytest.mark.parametrize("method", ["exists", "open", "delete", "size"])
def test_traversal_is_refused_everywhere(store: Storage, name: str, method: str) -> None:
    with pytest.raises(SuspiciousFileOperation):
        getattr(store, method)(name)


def test_long_names_are_stored(store: Storage) -> None:
    name = "n" * 245 + ".txt"  # 249 bytes: within the 255-byte limit of a file name
    assert store.save(name, ContentFile(b"long")) == name
    assert read(store, name) == b"long"


# ---------------------------------------------------------------- overwrite rules
def test_saving_twice_never_overwrites(store: Storage) -> None:
    names = [store.save("same.txt", ContentFile(str(i).encode())) for i in range(3)]
    assert len(set(names)) == 3
    assert [read(store, n) for n in names] == [b"0", b"1", b"2"]


def test_concurrent_saves_of_one_name_keep_every_file(store: Storage) -> None:
    count = 6
    barrier = threading.Barrier(count)
    names: list[str] = []
    errors: list[BaseException] = []

    class Slow(ContentFile):
        waited = False

        def chunks(self, chunk_size=None):
            if not self.waited:  # every thread has chosen its name by now
                self.waited = True
                barrier.wait(timeout=30)
            yield from super().chunks(chunk_size)

    def save(i: int) -> None:
        try:
            names.append(store.save("race.txt", Slow(f"writer {i}".encode())))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(set(names)) == count
    assert sorted(read(store, n) for n in names) == sorted(
        f"writer {i}".encode() for i in range(count)
    )


def test_file_overwrite_replaces_the_content(settings, tmp_path: Path) -> None:
    settings.GENRO_STORAGE_MOUNTS = [mount_config("local", "m", tmp_path)]
    store = GenroStorage(mount="m", file_overwrite=True)
    assert store.save("o.txt", ContentFile(b"1")) == "o.txt"
    assert store.save("o.txt", ContentFile(b"2")) == "o.txt"
    assert read(store, "o.txt") == b"2"


# ---------------------------------------------------------------- delete
def test_delete_removes_an_empty_directory(store: Storage) -> None:
    store.save("gone/f.txt", ContentFile(b"x"))
    store.delete("gone/f.txt")
    store.delete("gone")
    assert "gone" not in store.listdir("")[0]


# ---------------------------------------------------------------- the 4.2 LTS pass
@pytest.mark.skipif(not os.environ.get(CHILD_FLAG), reason="the 4.2 child only")
def test_child_runs_django_42() -> None:
    assert django.VERSION[:2] == (4, 2)
    assert KINDS == ("local", "memory", "s3")


@pytest.mark.skipif(bool(os.environ.get(CHILD_FLAG)), reason="the child run")
@pytest.mark.slow  # the whole contract again, in a Django 4.2 child interpreter
def test_contract_passes_on_django_42() -> None:
    """Both contract files, again, in a child interpreter that imports Django 4.2 LTS, on
    the reference, a folder, a memory store and S3 (``KINDS`` there)."""
    files = [
        "tests/integrations/test_django_contract.py",
        "tests/integrations/test_django_storage.py",
    ]
    print(run_on_django_42(files))


# ---------------------------------------------------------------- object-store folder markers
@pytest.mark.parametrize("kind", ["s3", "gcs"])
def test_folder_marker_objects_are_directories(kind: str, settings, tmp_path: Path) -> None:
    """``dir/`` objects (made by the AWS and Google consoles, rclone, many tools) are
    directories to listdir() and delete(), not files named ``dir``."""
    settings.GENRO_STORAGE_MOUNTS = [mount_config(kind, "m", tmp_path)]
    store = GenroStorage(mount="m")
    fs_backend = get_manager().get_backend("m")
    root = fs_backend._full("")  # type: ignore[attr-defined]
    fs_backend.fs.pipe_file(f"{root}/empty-folder/", b"")  # type: ignore[attr-defined]
    fs_backend.fs.pipe_file(f"{root}/full-folder/", b"")  # type: ignore[attr-defined]
    store.save("full-folder/inside.txt", ContentFile(b"x"))
    fs_backend.fs.invalidate_cache()  # type: ignore[attr-defined]
    assert store.listdir("empty-folder") == ([], [])
    assert store.listdir("full-folder") == ([], ["inside.txt"])
    assert sorted(store.listdir("")[0]) == ["empty-folder", "full-folder"]
    with pytest.raises(OSError):
        store.delete("full-folder")  # not empty: as FileSystemStorage, nothing is removed
    assert store.exists("full-folder/inside.txt")
    store.delete("empty-folder")
    assert not store.exists("empty-folder")
    assert store.listdir("")[0] == ["full-folder"]


# ---------------------------------------------------------------- settings
def test_old_setting_name_still_works_with_a_deprecation_warning(settings, tmp_path: Path) -> None:
    del settings.GENRO_STORAGE_MOUNTS
    settings.GENRO_STORAGE = [mount_config("local", "old", tmp_path)]
    with pytest.warns(DeprecationWarning, match="GENRO_STORAGE_MOUNTS"):
        assert get_manager().get_mount_names() == ["old"]
