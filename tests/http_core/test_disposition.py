from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genro_storage.http.disposition import ascii_filename, content_disposition


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("report.pdf", 'attachment; filename="report.pdf"', id="plain_ascii"),
        pytest.param("my report.pdf", 'attachment; filename="my report.pdf"', id="space_kept"),
        pytest.param(
            "résumé.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
            id="accents_transliterated",
        ),
        pytest.param(
            "日本.txt",
            "attachment; filename=\"__.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
            id="non_latin_replaced",
        ),
        pytest.param(
            'a"b.txt',
            "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt",
            id="quote_escaped",
        ),
        pytest.param(
            "a;b.txt",
            "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%3Bb.txt",
            id="semicolon",
        ),
        pytest.param(
            "100%.txt",
            "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt",
            id="percent",
        ),
        pytest.param("a\\b.txt", 'attachment; filename="a_b.txt"', id="backslash"),
        pytest.param("../../etc/passwd", 'attachment; filename=".._.._etc_passwd"', id="path"),
        pytest.param("x\r\nSet-Cookie: a=b", 'attachment; filename="xSet-Cookie: a=b"', id="crlf"),
        pytest.param("a\x00\x1b\x7fb", 'attachment; filename="ab"', id="controls"),
        pytest.param("a\u2028b", 'attachment; filename="ab"', id="unicode_line_separator"),
        pytest.param("", 'attachment; filename="download"', id="empty"),
        pytest.param("..", 'attachment; filename="download"', id="dots_only"),
        pytest.param("\r\n", 'attachment; filename="download"', id="only_controls"),
        pytest.param("\udcff.bin", 'attachment; filename="_.bin"', id="lone_surrogate"),
    ],
)
def test_content_disposition(name: str, expected: str) -> None:
    assert content_disposition("attachment", name) == expected


def test_inline_kind() -> None:
    assert content_disposition("inline", "a.png") == 'inline; filename="a.png"'


@pytest.mark.parametrize("kind", ["Attachment", "form-data", "attachment\r\nX: y", ""])
def test_unknown_kind_raises(kind: str) -> None:
    with pytest.raises(ValueError):
        content_disposition(kind, "a")


@pytest.mark.parametrize(
    ("name", "expected"), [("ﬁle.txt", "file.txt"), ("Ünïcödé", "Unicode"), ("€", "_")]
)
def test_ascii_filename(name: str, expected: str) -> None:
    assert ascii_filename(name) == expected


@given(st.text())
def test_no_header_injection_for_any_name(name: str) -> None:
    value = content_disposition("attachment", name)
    assert value.isascii()
    assert not any(c in value for c in "\r\n\x00")
    head, _, rest = value.partition('filename="')
    fallback, quote, tail = rest.partition('"')
    assert head == "attachment; " and quote == '"'
    assert "\\" not in fallback and ";" not in fallback
    assert tail == "" or tail.startswith("; filename*=UTF-8''")
    if tail:
        encoded = tail[len("; filename*=UTF-8''") :]
        assert not any(c in encoded for c in ' ";,\\')
        assert "\r" not in unquote(encoded) and "\n" not in unquote(encoded)
