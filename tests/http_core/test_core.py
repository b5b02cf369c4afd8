from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genro_storage.http.core import content_type, plan_response
from genro_storage.http.headers import headers_from_environ, headers_from_scope
from genro_storage.http.options import ServeOptions
from genro_storage.http.resource import Resource
from genro_storage.http.response import Part, ResponsePlan

from ._helpers import assemble, parse_multipart

T = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT
LAST_MODIFIED = "Sun, 06 Nov 1994 08:49:37 GMT"
DATA = bytes(range(256)) * 40
RES = Resource(len(DATA), T + 0.5, "v1", "text/plain", "notes.txt")
CORS = ("Access-Control-Allow-Origin", "*")


def plan(
    headers: dict[str, str] | None = None,
    method: str = "GET",
    resource: Resource | None = RES,
    **options: Any,
) -> ResponsePlan:
    return plan_response(method, headers or {}, resource, ServeOptions(**options))


def names(p: ResponsePlan) -> list[str]:
    return [name for name, _ in p.headers]


# -- 200 ------------------------------------------------------------------------------------


def test_get_sends_the_whole_file_with_all_headers() -> None:
    p = plan()
    assert p.status == 200
    assert p.headers == [
        ("ETag", '"v1"'),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(DATA))),
        ("Cache-Control", "no-cache"),
        ("Last-Modified", LAST_MODIFIED),
        ("Accept-Ranges", "bytes"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    assert p.parts == (Part(0, len(DATA)),)
    assert assemble(p, DATA) == DATA
    assert p.content_length == len(DATA)


def test_head_sends_the_same_headers_and_no_body() -> None:
    get, head = plan(), plan(method="HEAD")
    assert head.status == 200
    assert head.headers == get.headers
    assert head.parts == () and head.body == b"" and head.content_length == 0


def test_empty_file_has_no_parts_and_zero_length() -> None:
    p = plan(resource=Resource(0, T, "e", "application/octet-stream", "empty"))
    assert (p.status, p.parts, p.header("Content-Length")) == (200, (), "0")


def test_unknown_etag_and_mtime_send_no_validators() -> None:
    p = plan({"If-None-Match": "*"}, resource=Resource(3, None, None, "image/png", "a.png"))
    assert p.status == 304  # "*" matches any existing representation
    p = plan(resource=Resource(3, None, None, "image/png", "a.png"))
    assert p.header("ETag") is None and p.header("Last-Modified") is None


@pytest.mark.parametrize("mtime", [1e20, -1e20])
def test_mtime_out_of_range_sends_no_last_modified(mtime: float) -> None:
    assert plan(resource=Resource(1, mtime, "x", "a/b", "f")).header("Last-Modified") is None


@pytest.mark.parametrize(
    ("media_type", "charset", "expected"),
    [
        ("text/html", "utf-8", "text/html; charset=utf-8"),
        ("text/css", "latin-1", "text/css; charset=latin-1"),
        ("application/json", "utf-8", "application/json; charset=utf-8"),
        ("application/javascript", "utf-8", "application/javascript; charset=utf-8"),
        ("application/xml", "utf-8", "application/xml; charset=utf-8"),
        ("image/svg+xml", "utf-8", "image/svg+xml; charset=utf-8"),
        ("application/ld+json", "utf-8", "application/ld+json; charset=utf-8"),
        ("TEXT/Plain", "utf-8", "TEXT/Plain; charset=utf-8"),
        ("text/html; charset=iso-8859-1", "utf-8", "text/html; charset=iso-8859-1"),
        ("image/png", "utf-8", "image/png"),
        ("application/pdf", "utf-8", "application/pdf"),
        ("text/plain", None, "text/plain"),
        ("", "utf-8", "application/octet-stream"),
    ],
)
def test_content_type_adds_charset_to_text_types(
    media_type: str, charset: str | None, expected: str
) -> None:
    assert content_type(media_type, charset) == expected


def test_charset_option_is_used() -> None:
    assert plan(charset="iso-8859-1").header("Content-Type") == "text/plain; charset=iso-8859-1"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, None, id="inline_by_default"),
        pytest.param({"download": True}, 'attachment; filename="notes.txt"', id="download"),
        pytest.param(
            {"download_name": "r.txt"}, 'attachment; filename="r.txt"', id="download_name_implies"
        ),
        pytest.param(
            {"download": True, "download_name": "é\r\n.txt"},
            "attachment; filename=\"e.txt\"; filename*=UTF-8''%C3%A9.txt",
            id="download_name_sanitised",
        ),
        pytest.param({"download_name": ""}, 'attachment; filename="download"', id="empty_name"),
    ],
)
def test_content_disposition(options: dict[str, Any], expected: str | None) -> None:
    assert plan(**options).header("Content-Disposition") == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, "no-cache", id="no_cache_by_default"),
        pytest.param({"cache_control_default": None}, None, id="default_turned_off"),
        pytest.param({"cache_control_default": "private"}, "private", id="default_replaced"),
        pytest.param({"legacy": True}, None, id="none_in_legacy_mode"),
        pytest.param({"cache_max_age": 0}, "max-age=0", id="zero"),
        pytest.param({"cache_max_age": 3600}, "max-age=3600", id="max_age"),
        pytest.param(
            {"cache_max_age": 31536000, "immutable": True}, "max-age=31536000, immutable", id="imm"
        ),
        pytest.param({"immutable": True}, "no-cache", id="immutable_needs_max_age"),
    ],
)
def test_cache_control(options: dict[str, Any], expected: str | None) -> None:
    assert plan(**options).header("Cache-Control") == expected


def test_precompressed_variant_sends_content_encoding_and_vary() -> None:
    p = plan(resource=Resource(5, T, "gz1", "text/css", "a.css", content_encoding="gzip"))
    assert p.header("Content-Encoding") == "gzip"
    assert p.header("Vary") == "Accept-Encoding"
    assert p.header("Content-Type") == "text/css; charset=utf-8"


def test_negotiated_identity_variant_sends_vary_only() -> None:
    p = plan(resource=Resource(5, T, "id1", "text/css", "a.css", negotiated=True))
    assert p.header("Vary") == "Accept-Encoding" and p.header("Content-Encoding") is None


def test_header_names_are_case_insensitive() -> None:
    assert plan({"IF-NONE-MATCH": '"v1"'}).status == 304
    assert plan({"rAnGe": "bytes=0-0"}).status == 206


def test_wsgi_environ_and_asgi_scope_helpers_feed_plan_response() -> None:
    environ = {"REQUEST_METHOD": "GET", "HTTP_RANGE": "bytes=0-9"}
    scope = {"type": "http", "headers": [(b"range", b"bytes=0-9")]}
    for headers in (headers_from_environ(environ), headers_from_scope(scope)):
        assert plan_response("GET", headers, RES).status == 206


# -- 405, 404, 400 --------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "head"])
def test_other_methods_get_405_with_allow(method: str) -> None:
    p = plan(method=method, extra_headers=(CORS,))
    assert p.status == 405
    assert p.header("Allow") == "GET, HEAD"
    assert p.body == b"Method Not Allowed"
    assert p.header("Content-Length") == str(len(p.body))
    assert CORS in p.headers


def test_405_comes_before_404() -> None:
    assert plan(method="POST", resource=None).status == 405


def test_missing_resource_gives_404_not_found() -> None:
    p = plan(resource=None)
    assert (p.status, p.body, p.parts) == (404, b"Not Found", ())
    assert p.header("Content-Type") == "text/plain; charset=utf-8"
    assert p.header("Content-Length") == "9"
    assert p.header("X-Content-Type-Options") == "nosniff"


def test_head_404_has_no_body_but_the_get_length() -> None:
    p = plan(method="HEAD", resource=None)
    assert (p.status, p.body, p.header("Content-Length")) == (404, b"", "9")


def test_404_ignores_preconditions() -> None:
    # RFC 9110 §13.2.1: preconditions are ignored when the answer would not be 2xx/412.
    assert plan({"If-Match": '"nope"'}, resource=None).status == 404


@pytest.mark.parametrize(
    "name",
    ["Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"],
)
@pytest.mark.parametrize("bad", ["\r\n", "\n", "\r", "\x00"])
def test_cr_lf_nul_in_a_used_header_gives_400(name: str, bad: str) -> None:
    p = plan(
        {name: f'"v1"{bad}X-Injected: yes', "Range": "bytes=0-1"}
        if name != "Range"
        else {name: f"bytes=0-1{bad}"}
    )
    assert (p.status, p.body) == (400, b"Bad Request")


def test_cr_lf_in_an_unused_header_is_not_our_business() -> None:
    assert plan({"X-Other": "a\r\nb"}).status == 200


# -- conditional requests: 304 and 412 --------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"If-None-Match": '"v1"'}, 304, id="if_none_match_strong_etag_gives_304"),
        pytest.param({"If-None-Match": 'W/"v1"'}, 304, id="if_none_match_weak_etag_gives_304"),
        pytest.param({"If-None-Match": '"x", "v1"'}, 304, id="if_none_match_list_gives_304"),
        pytest.param({"If-None-Match": "*"}, 304, id="if_none_match_star_gives_304"),
        pytest.param({"If-None-Match": '"v2"'}, 200, id="if_none_match_other_gives_200"),
        pytest.param({"If-None-Match": "v1"}, 200, id="if_none_match_unquoted_ignored"),
        pytest.param({"If-Modified-Since": LAST_MODIFIED}, 304, id="ims_same_second_gives_304"),
        pytest.param(
            {"If-Modified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, 200, id="ims_older_gives_200"
        ),
        pytest.param(
            {"If-None-Match": '"v2"', "If-Modified-Since": LAST_MODIFIED},
            200,
            id="ims_ignored_when_inm_present",
        ),
        pytest.param({"If-Match": '"v1"'}, 200, id="if_match_gives_200"),
        pytest.param({"If-Match": 'W/"v1"'}, 412, id="if_match_weak_gives_412"),
        pytest.param({"If-Match": '"v2"'}, 412, id="if_match_other_gives_412"),
        pytest.param(
            {"If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"}, 412, id="ius_older_gives_412"
        ),
        pytest.param({"If-Unmodified-Since": LAST_MODIFIED}, 200, id="ius_same_gives_200"),
        pytest.param(
            {"If-Match": '"v1"', "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:36 GMT"},
            200,
            id="ius_ignored_when_if_match_present",
        ),
        pytest.param(
            {"If-Match": '"v2"', "If-None-Match": '"v1"'}, 412, id="if_match_evaluated_first"
        ),
        pytest.param({"If-None-Match": '"v1"', "Range": "bytes=0-0"}, 304, id="304_beats_range"),
        pytest.param({"If-Match": '"v2"', "Range": "bytes=99999-"}, 412, id="412_beats_416"),
    ],
)
def test_conditional_requests(headers: dict[str, str], status: int) -> None:
    assert plan(headers).status == status


def test_304_keeps_validators_and_drops_body_headers() -> None:
    resource = Resource(5, T, "v1", "text/css", "a.css", content_encoding="br")
    p = plan(
        {"If-None-Match": '"v1"', "Origin": "https://app.example"},
        resource=resource,
        cache_max_age=60,
        extra_headers=(CORS,),
        download=True,
    )
    assert p.status == 304
    assert p.headers == [
        ("ETag", '"v1"'),
        ("Cache-Control", "max-age=60"),
        ("Vary", "Accept-Encoding"),
        CORS,
    ]
    assert (p.parts, p.body, p.trailer, p.content_length) == ((), b"", b"", 0)


def test_304_repeats_the_extra_headers_only_for_a_cors_request() -> None:
    """A 304 carries the §15.4.5 fields the 200 has (ETag, Cache-Control, Vary, Expires,
    Content-Location); the other configured headers (CORS) only when the request carries
    Origin: a browser checks CORS on the 304 itself, a cache keeps the stored 200's."""
    expires = ("Expires", "Thu, 01 Dec 2044 16:00:00 GMT")
    location = ("content-location", "/a.css")
    extra = (CORS, expires, ("X-Frame-Options", "DENY"), location)
    plain = plan({"If-None-Match": '"v1"'}, extra_headers=extra, cache_max_age=60)
    assert plain.status == 304
    assert plain.headers == [("ETag", '"v1"'), ("Cache-Control", "max-age=60"), expires, location]
    cors = plan({"If-None-Match": '"v1"', "origin": "null"}, extra_headers=extra)
    assert cors.status == 304
    assert cors.headers == [("ETag", '"v1"'), ("Cache-Control", "no-cache"), *extra]
    for headers in ({}, {"Origin": "https://app.example"}):  # a 200 always has them all
        full = plan(headers, extra_headers=extra)
        assert full.status == 200 and full.headers[-4:] == list(extra)
    refused = plan({"If-Match": '"v2"'}, extra_headers=extra)  # other answers: unchanged
    assert refused.status == 412 and refused.headers[-4:] == list(extra)


def test_304_sends_last_modified_only_without_an_etag_or_in_legacy() -> None:
    """RFC 9110 §15.4.5: a 304 repeats ETag, Cache-Control, Vary...; Last-Modified only
    helps a cache when there is no ETag (0.4.2's legacy contract always sent it)."""
    untagged = Resource(5, T, None, "text/css", "a.css")
    p = plan({"If-Modified-Since": LAST_MODIFIED}, resource=untagged)
    assert p.status == 304 and p.header("Last-Modified") == LAST_MODIFIED
    p = plan({"If-None-Match": '"v1"'}, legacy=True)
    assert p.status == 304 and p.header("Last-Modified") == LAST_MODIFIED
    p = plan({"If-None-Match": '"v1"'})
    assert p.status == 304 and p.header("Last-Modified") is None


def test_head_gets_304_too() -> None:
    assert plan({"If-None-Match": '"v1"'}, method="HEAD").status == 304


def test_412_has_a_short_body_and_extra_headers() -> None:
    p = plan({"If-Match": '"v2"'}, extra_headers=(CORS,))
    assert (p.status, p.body) == (412, b"Precondition Failed")
    assert CORS in p.headers
    assert plan({"If-Match": '"v2"'}, method="HEAD").body == b""


# -- ranges: 206 and 416 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        pytest.param("bytes=0-0", 0, 0, id="first_byte"),
        pytest.param("bytes=-1", len(DATA) - 1, len(DATA) - 1, id="last_byte_suffix"),
        pytest.param("bytes=100-199", 100, 199, id="middle"),
        pytest.param("bytes=10000-", 10000, len(DATA) - 1, id="open_ended"),
        pytest.param("bytes=10000-999999", 10000, len(DATA) - 1, id="clamped"),
        pytest.param("bytes=-100000", 0, len(DATA) - 1, id="suffix_longer_than_file"),
        pytest.param("bytes=0-1,2-3", 0, 3, id="adjacent_ranges_merged_into_one"),
    ],
)
def test_single_range_gives_206_with_content_range(header: str, first: int, last: int) -> None:
    p = plan({"Range": header})
    assert p.status == 206
    assert p.header("Content-Range") == f"bytes {first}-{last}/{len(DATA)}"
    assert p.header("Content-Length") == str(last - first + 1)
    assert p.header("Content-Type") == "text/plain; charset=utf-8"
    assert assemble(p, DATA) == DATA[first : last + 1]
    assert p.content_length == last - first + 1


def test_one_byte_file_serves_its_one_byte() -> None:
    resource = Resource(1, T, "o", "application/octet-stream", "one")
    for header in ("bytes=0-0", "bytes=-1", "bytes=0-"):
        p = plan({"Range": header}, resource=resource)
        assert (p.status, p.header("Content-Range"), p.parts) == (206, "bytes 0-0/1", (Part(0, 1),))


def test_multiple_ranges_give_multipart_byteranges() -> None:
    p = plan({"Range": "bytes=0-9, 500-599, -5"}, extra_headers=(CORS,))
    assert p.status == 206
    match = re.fullmatch(
        r"multipart/byteranges; boundary=([0-9a-f]{32})", p.header("Content-Type") or ""
    )
    assert match
    boundary = match.group(1).encode()
    body = assemble(p, DATA)
    assert p.header("Content-Length") == str(len(body)) == str(p.content_length)
    assert body.startswith(b"--" + boundary + b"\r\n")
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    assert p.header("Content-Range") is None
    assert CORS in p.headers
    parts = parse_multipart(p, DATA)
    expected = [(0, 9), (500, 599), (len(DATA) - 5, len(DATA) - 1)]
    assert len(parts) == 3
    for part, (first, last) in zip(parts, expected):
        assert part["Content-Type"] == "text/plain; charset=utf-8"
        assert part["Content-Range"] == f"bytes {first}-{last}/{len(DATA)}"
        assert part.get_payload(decode=True) == DATA[first : last + 1]


def test_multipart_part_headers_are_crlf_terminated() -> None:
    p = plan({"Range": "bytes=0-0,1000-1000"})
    first, second = p.parts
    assert first.prefix.endswith(b"\r\n\r\n") and b"\n" not in first.prefix.replace(b"\r\n", b"")
    assert second.prefix.startswith(b"\r\n--")


def test_multipart_boundary_is_random_but_length_is_stable() -> None:
    one, two = plan({"Range": "bytes=0-0,1000-1000"}), plan({"Range": "bytes=0-0,1000-1000"})
    assert one.header("Content-Type") != two.header("Content-Type")
    assert one.header("Content-Length") == two.header("Content-Length")


@pytest.mark.parametrize(
    ("header", "size"),
    [
        pytest.param("bytes=99999-", len(DATA), id="beyond_the_end"),
        pytest.param("bytes=-0", len(DATA), id="zero_suffix"),
        pytest.param("bytes=0-0", 0, id="empty_file"),
    ],
)
def test_unsatisfiable_range_gives_416_with_star_content_range(header: str, size: int) -> None:
    resource = Resource(size, T, "v1", "text/plain", "f")
    p = plan({"Range": header}, resource=resource, extra_headers=(CORS,))
    assert p.status == 416
    assert p.header("Content-Range") == f"bytes */{size}"
    assert p.body == b"Range Not Satisfiable"
    assert CORS in p.headers


@pytest.mark.parametrize(
    ("headers", "method"),
    [
        pytest.param({"Range": "bytes=0-0"}, "HEAD", id="head_ignores_range"),
        pytest.param({"Range": "bytes=5-1"}, "GET", id="invalid_range"),
        pytest.param({"Range": "pages=1-2"}, "GET", id="unknown_unit"),
        pytest.param({"Range": "bytes=" + ",".join(["0-0"] * 17)}, "GET", id="too_many_ranges"),
        pytest.param({"Range": "bytes=0-0", "If-Range": '"v2"'}, "GET", id="if_range_other_etag"),
        pytest.param({"Range": "bytes=0-0", "If-Range": 'W/"v1"'}, "GET", id="if_range_weak"),
        pytest.param(
            {"Range": "bytes=0-0", "If-Range": "Sun, 06 Nov 1994 08:49:38 GMT"},
            "GET",
            id="if_range_other_date",
        ),
        pytest.param(
            {"Range": "bytes=99999-", "If-Range": '"v2"'}, "GET", id="if_range_before_416"
        ),
        pytest.param({"If-Range": '"v2"'}, "GET", id="if_range_without_range"),
        pytest.param({"If-Range": "junk"}, "GET", id="bad_if_range_without_range"),
    ],
)
def test_ignored_range_gives_200_whole_file(headers: dict[str, str], method: str) -> None:
    p = plan(headers, method=method)
    assert p.status == 200
    assert p.header("Content-Length") == str(len(DATA))
    assert p.header("Content-Range") is None


@pytest.mark.parametrize("if_range", ['"v1"', LAST_MODIFIED])
def test_if_range_match_gives_206(if_range: str) -> None:
    assert plan({"Range": "bytes=0-0", "If-Range": if_range}).status == 206


def test_max_ranges_option() -> None:
    header = {"Range": "bytes=0-0,1000-1000,2000-2000"}
    assert plan(header, max_ranges=2).status == 200
    assert plan(header, max_ranges=3).status == 206


def test_encoded_variant_single_range_is_served() -> None:
    resource = Resource(len(DATA), T, "g", "text/plain", "f", content_encoding="gzip")
    p = plan({"Range": "bytes=0-9"}, resource=resource)
    assert (p.status, p.header("Content-Encoding")) == (206, "gzip")


def test_encoded_variant_multiple_ranges_are_ignored() -> None:
    resource = Resource(len(DATA), T, "g", "text/plain", "f", content_encoding="gzip")
    assert plan({"Range": "bytes=0-0,1000-1000"}, resource=resource).status == 200


def test_range_response_keeps_disposition_and_cache_headers() -> None:
    p = plan({"Range": "bytes=0-0"}, download=True, cache_max_age=5)
    assert p.header("Content-Disposition") == 'attachment; filename="notes.txt"'
    assert p.header("Cache-Control") == "max-age=5"
    assert p.header("ETag") == '"v1"'


# -- extra headers everywhere ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "headers", "resource", "status"),
    [
        ("GET", {}, RES, 200),
        ("GET", {"Range": "bytes=0-0"}, RES, 206),
        ("GET", {"Range": "bytes=0-0,1000-1000"}, RES, 206),
        ("GET", {"If-None-Match": '"v1"', "Origin": "https://a.example"}, RES, 304),
        ("GET", {"Range": "bytes=a\r\n"}, RES, 400),
        ("GET", {}, None, 404),
        ("POST", {}, RES, 405),
        ("GET", {"If-Match": '"x"'}, RES, 412),
        ("GET", {"Range": "bytes=99999-"}, RES, 416),
        ("HEAD", {}, RES, 200),
    ],
)
def test_extra_headers_are_on_every_response(
    method: str, headers: dict[str, str], resource: Resource | None, status: int
) -> None:
    p = plan_response(method, headers, resource, ServeOptions(extra_headers=(CORS, ("X-A", "b"))))
    assert p.status == status
    assert p.headers[-2:] == [CORS, ("X-A", "b")]


_header_text = st.text(st.characters(codec="latin-1"), max_size=40)


@given(
    name=st.text(max_size=30),
    request=st.dictionaries(
        st.sampled_from(["Range", "If-Range", "If-None-Match", "If-Match", "If-Modified-Since"]),
        _header_text,
    ),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_every_plan_is_latin1_safe_and_consistent(
    name: str, request: dict[str, str], method: str
) -> None:
    p = plan_response(method, request, RES, ServeOptions(download_name=name))
    for header, value in p.headers:
        header.encode("latin-1")
        value.encode("latin-1")
        assert not any(c in header + value for c in "\r\n\x00")
    assert p.status in {200, 206, 304, 400, 405, 412, 416}
    length = p.header("Content-Length")
    if method == "GET" and length is not None:
        assert int(length) == p.content_length == len(assemble(p, DATA))
    for part in p.parts:
        assert 0 <= part.start < part.end <= RES.size


# -- legacy mode (genro-storage 0.4.2 serve()) ------------------------------------------------

LEGACY_ETAG = f"{T + 0.5}-{len(DATA)}"  # 0.4.2's f"{mtime}-{size}"
LEGACY = Resource(len(DATA), T + 0.5, LEGACY_ETAG, "text/plain", "notes.txt")


def legacy(
    headers: dict[str, str] | None = None, method: str = "GET", **options: Any
) -> ResponsePlan:
    return plan(headers, method, LEGACY, legacy=True, **options)


def test_legacy_200_starts_with_the_0_4_2_headers() -> None:
    p = legacy(download_name="r.txt", cache_max_age=60)
    assert p.status_line == "200 OK"
    assert p.headers[:5] == [
        ("ETag", f'"{LEGACY_ETAG}"'),
        ("Content-Type", "text/plain"),
        ("Content-Length", str(len(DATA))),
        ("Content-Disposition", 'attachment; filename="r.txt"'),
        ("Cache-Control", "max-age=60"),
    ]
    # what HTTP clients expect is added
    assert p.header("Last-Modified") == LAST_MODIFIED
    assert p.header("Accept-Ranges") == "bytes"


def test_legacy_404_is_plain_text_not_found() -> None:
    p = plan(resource=None, legacy=True)
    assert (p.status_line, p.body, p.header("Content-Type")) == (
        "404 Not Found",
        b"Not Found",
        "text/plain",
    )


@pytest.mark.parametrize(
    "inm",
    [f'"{LEGACY_ETAG}"', LEGACY_ETAG, f'W/"{LEGACY_ETAG}"', f'"x", "{LEGACY_ETAG}"'],
    ids=["quoted", "unquoted_like_0_4_2", "weak", "list"],
)
def test_legacy_if_none_match_gives_304(inm: str) -> None:
    p = legacy({"If-None-Match": inm})
    assert p.status_line == "304 Not Modified"
    assert p.header("ETag") == f'"{LEGACY_ETAG}"' and p.body == b""


def test_legacy_serves_other_methods_like_get() -> None:
    p = legacy(method="POST")
    assert p.status == 200 and assemble(p, DATA) == DATA


def test_legacy_still_honours_head_and_range() -> None:
    assert legacy(method="HEAD").parts == ()
    p = legacy({"Range": "bytes=0-0"})
    assert (p.status_line, p.header("Content-Range")) == (
        "206 Partial Content",
        f"bytes 0-0/{len(DATA)}",
    )
    assert legacy({"Range": "bytes=0-0,1000-1000"}, method="PUT").status == 206
