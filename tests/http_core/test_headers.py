from __future__ import annotations

import pytest

from genro_storage.http.headers import (
    EnvironHeaders,
    _HeaderError,
    field,
    headers_from_environ,
    headers_from_scope,
    normalize_headers,
)


def test_headers_from_environ_takes_http_keys_and_content_fields() -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/x",
        "HTTP_IF_NONE_MATCH": '"a"',
        "HTTP_RANGE": "bytes=0-1",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "0",
        "wsgi.input": object(),
        "HTTP_X_NOT_TEXT": 5,
    }
    assert headers_from_environ(environ) == {
        "if-none-match": '"a"',
        "range": "bytes=0-1",
        "content-type": "text/plain",
        "content-length": "0",
    }


def test_headers_from_scope_decodes_latin1_and_combines_repeats() -> None:
    scope = {
        "type": "http",
        "headers": [
            (b"If-None-Match", b'"a"'),
            (b"if-none-match", b'"b"'),
            (b"x-latin", "café".encode("latin-1")),
        ],
    }
    assert headers_from_scope(scope) == {"if-none-match": '"a", "b"', "x-latin": "café"}


def test_headers_from_scope_without_headers_is_empty() -> None:
    assert headers_from_scope({"type": "http"}) == {}


def test_normalize_headers_lower_cases_and_combines() -> None:
    assert normalize_headers({"Range": "bytes=0-1", "RANGE": "bytes=2-3"}) == {
        "range": "bytes=0-1, bytes=2-3"
    }


def test_normalized_headers_are_not_normalized_again() -> None:
    headers = headers_from_environ({"HTTP_RANGE": "bytes=0-1"})
    assert normalize_headers(headers) is headers
    assert normalize_headers(headers_from_scope({"headers": [(b"Range", b"x")]})) == {"range": "x"}
    plain = {"range": "bytes=0-1"}
    assert normalize_headers(plain) is not plain  # any other mapping is copied, lower-cased


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "\r\n"])
def test_field_refuses_cr_lf_nul(value: str) -> None:
    with pytest.raises(_HeaderError):
        field({"range": value}, "range")


def test_field_returns_value_or_none() -> None:
    assert field({"range": "bytes=0-0"}, "range") == "bytes=0-0"
    assert field({}, "range") is None


ENVIRON = {
    "REQUEST_METHOD": "GET",
    "HTTP_IF_NONE_MATCH": '"a"',
    "HTTP_ACCEPT_ENCODING": "gzip",
    "CONTENT_TYPE": "text/plain",
    "wsgi.input": object(),
    "HTTP_X_NOT_TEXT": 5,
}


def test_environ_headers_is_the_same_mapping_read_lazily() -> None:
    lazy = EnvironHeaders(ENVIRON)
    assert lazy.get("if-none-match") == '"a"' and lazy.get("accept-encoding") == "gzip"
    assert lazy._all is None  # nothing built for single lookups
    assert lazy.get("content-type") == "text/plain"  # the unprefixed ones: via the mapping
    assert dict(lazy) == headers_from_environ(ENVIRON) and len(lazy) == 3
    assert lazy == headers_from_environ(ENVIRON)


@pytest.mark.parametrize("name", ["x-not-text", "range", "If-None-Match", "if_none_match", "ß"])
def test_environ_headers_answers_like_the_mapping_for_any_name(name: str) -> None:
    lazy = EnvironHeaders(ENVIRON)
    assert lazy.get(name) is None and lazy.get(name, "d") == "d"
    assert lazy.get(name) == headers_from_environ(ENVIRON).get(name)
    assert name not in lazy


def test_environ_headers_are_not_normalized_again() -> None:
    lazy = EnvironHeaders(ENVIRON)
    assert normalize_headers(lazy) is lazy
    assert field(lazy, "if-none-match") == '"a"'
