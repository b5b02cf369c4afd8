from __future__ import annotations

import pytest

from genro_storage.http.response import Part, ResponsePlan, status_line


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (200, "200 OK"),
        (206, "206 Partial Content"),
        (304, "304 Not Modified"),
        (400, "400 Bad Request"),
        (404, "404 Not Found"),
        (405, "405 Method Not Allowed"),
        (412, "412 Precondition Failed"),
        (416, "416 Range Not Satisfiable"),
        (302, "302 Found"),
    ],
)
def test_status_line(code: int, line: str) -> None:
    assert status_line(code) == line
    assert ResponsePlan(code, []).status_line == line


def test_status_line_unknown_code_raises() -> None:
    with pytest.raises(ValueError):
        status_line(299)


def test_content_length_counts_body_parts_and_trailer() -> None:
    plan = ResponsePlan(206, [], (Part(0, 10, b"abc"), Part(20, 25)), trailer=b"--x--")
    assert plan.content_length == 3 + 10 + 5 + 5
    assert ResponsePlan(404, [], body=b"Not Found").content_length == 9
    assert ResponsePlan(304, []).content_length == 0


def test_header_lookup_is_case_insensitive() -> None:
    plan = ResponsePlan(200, [("ETag", '"a"'), ("Vary", "x"), ("Vary", "y")])
    assert plan.header("etag") == '"a"'
    assert plan.header("VARY") == "x"
    assert plan.header("Age") is None
