from __future__ import annotations

import subprocess
import sys

import pytest

from genro_storage.http.resource import Resource, is_valid_etag, make_etag

MD5 = "9e107d9d372bb6826bd81d3542a419d6"
MULTIPART = "d41d8cd98f00b204e9800998ecf8427e-3"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"md5": MD5}, MD5, id="md5_used_as_is"),
        pytest.param({"md5": MD5.upper()}, MD5, id="md5_lower_cased"),
        pytest.param({"md5": MD5, "backend_etag": '"other"'}, MD5, id="md5_beats_backend_tag"),
        pytest.param({"md5": "not-a-hash"}, "5f5e100-a", id="bad_md5_falls_back"),
        pytest.param({"backend_etag": f'"{MD5}"'}, MD5, id="backend_md5_unquoted"),
        pytest.param({"backend_etag": f'"{MULTIPART}"'}, MULTIPART, id="s3_multipart_opaque"),
        pytest.param({"backend_etag": f'W/"{MD5}"'}, MD5, id="backend_weak_prefix_dropped"),
        pytest.param({"backend_etag": "0x8DB1"}, "0x8DB1", id="azure_tag_unquoted_kept"),
        pytest.param({"backend_etag": '"a b"'}, "5f5e100-a", id="backend_tag_with_space_skipped"),
        pytest.param({"backend_etag": '""'}, "5f5e100-a", id="empty_backend_tag_skipped"),
        pytest.param({}, "5f5e100-a", id="size_and_mtime_token"),
    ],
)
def test_make_etag_preference(kwargs: dict[str, str], expected: str) -> None:
    assert make_etag(10, 100.0, **kwargs) == expected


def test_make_etag_multipart_tag_is_never_taken_for_md5() -> None:
    assert make_etag(1, 1.0, backend_etag=MULTIPART.upper()) == MULTIPART.upper()


@pytest.mark.parametrize(
    ("mtime", "expected"),
    [(None, "s-a"), (float("nan"), "s-a"), (float("inf"), "s-a"), (1.5, "16e360-a")],
)
def test_make_etag_without_usable_mtime_uses_size(mtime: float | None, expected: str) -> None:
    assert make_etag(10, mtime) == expected


def test_make_etag_changes_with_size_and_mtime() -> None:
    base = make_etag(10, 1700000000.123456)
    assert make_etag(11, 1700000000.123456) != base
    assert make_etag(10, 1700000000.123457) != base


def test_make_etag_is_stable_across_processes() -> None:
    code = "from genro_storage.http.resource import make_etag; print(make_etag(42, 1.7e9+0.25))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == make_etag(42, 1.7e9 + 0.25)


@pytest.mark.parametrize(
    ("opaque", "valid"),
    [
        ("abc", True),
        ("", True),
        ("a-b.c/d", True),
        ('a"b', False),
        ("a b", False),
        ("a\x7f", False),
        ("é", False),
        ("a\r\n", False),
    ],
)
def test_is_valid_etag(opaque: str, valid: bool) -> None:
    assert is_valid_etag(opaque) is valid


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"size": -1}, id="negative_size"),
        pytest.param({"size": 1.5}, id="float_size"),
        pytest.param({"size": True}, id="bool_size"),
        pytest.param({"etag": 'a"b'}, id="etag_with_quote"),
        pytest.param({"content_type": "text/html\r\nX-Evil: 1"}, id="content_type_crlf"),
        pytest.param({"content_type": "text/plain; name=é"}, id="content_type_non_ascii"),
        pytest.param({"content_encoding": "gzip\n"}, id="content_encoding_lf"),
    ],
)
def test_resource_refuses_unsendable_metadata(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "size": 1,
        "mtime": 1.0,
        "etag": "x",
        "content_type": "text/plain",
        "filename": "f",
    }
    with pytest.raises(ValueError):
        Resource(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_resource_is_frozen() -> None:
    resource = Resource(1, None, None, "text/plain", "f")
    with pytest.raises(AttributeError):
        resource.size = 2  # type: ignore[misc]
