from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genro_storage.http.conditional import (
    ANY,
    evaluate,
    if_range_holds,
    last_modified_seconds,
    parse_etag_list,
    parse_http_date,
    strong_match,
    weak_match,
)

# 784111777 is Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 §5.6.7's example)
T = 784111777
IMF = "Sun, 06 Nov 1994 08:49:37 GMT"
BEFORE = "Sun, 06 Nov 1994 08:49:36 GMT"
AFTER = "Sun, 06 Nov 1994 08:49:38 GMT"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("*", ANY, id="star"),
        pytest.param(" * ", ANY, id="star_with_spaces"),
        pytest.param('"a"', [(False, "a")], id="strong"),
        pytest.param('W/"a"', [(True, "a")], id="weak"),
        pytest.param('"a", W/"b" ,"c"', [(False, "a"), (True, "b"), (False, "c")], id="list"),
        pytest.param('"a",,"b",', [(False, "a"), (False, "b")], id="empty_elements"),
        pytest.param('""', [(False, "")], id="empty_tag"),
        pytest.param('"a,b"', [(False, "a,b")], id="comma_inside_quotes"),
        pytest.param('"é"', [(False, "é")], id="obs_text"),
        pytest.param("a", None, id="unquoted"),
        pytest.param('"a', None, id="unterminated"),
        pytest.param('"a" "b"', None, id="missing_comma"),
        pytest.param('w/"a"', None, id="lowercase_weak_prefix"),
        pytest.param('W/ "a"', None, id="space_after_weak_prefix"),
        pytest.param('"a b"', None, id="space_inside"),
        pytest.param('"a\x7f"', None, id="del_inside"),
        pytest.param('*, "a"', None, id="star_in_list"),
        pytest.param("", None, id="empty"),
        pytest.param(" , ", None, id="only_commas"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_etag_list(value: str | None, expected: object) -> None:
    assert parse_etag_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("abc", [(False, "abc")], id="bare_token"),
        pytest.param('abc, "d"', [(False, "abc"), (False, "d")], id="mixed"),
        pytest.param('a"b"c', [(False, "abc")], id="quotes_stripped_like_0_4_2"),
        pytest.param("W/abc", [(True, "abc")], id="weak_bare"),
        pytest.param("W/", None, id="weak_prefix_alone"),
    ],
)
def test_lenient_etag_list_accepts_bare_tokens(value: str, expected: object) -> None:
    assert parse_etag_list(value, lenient=True) == expected


def test_more_than_256_tags_is_malformed() -> None:
    assert len(parse_etag_list('"a",' * 256)) == 256  # type: ignore[arg-type]
    assert parse_etag_list('"a",' * 257) is None


def test_parse_etag_list_megabyte_is_fast() -> None:
    start = time.perf_counter()
    parse_etag_list('"a",' * 250_000)
    parse_etag_list('"' + "a" * 1_000_000)
    parse_etag_list("x" * 1_000_000, lenient=True)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("tags", "etag", "weak", "strong"),
    [
        pytest.param('W/"1"', "1", True, False, id="weak_vs_strong_current"),
        pytest.param('"1"', "1", True, True, id="strong_vs_strong"),
        pytest.param('"2"', "1", False, False, id="different"),
        pytest.param('"2", "1"', "1", True, True, id="second_in_list"),
        pytest.param("*", "1", True, True, id="star"),
        pytest.param("*", None, True, True, id="star_without_etag"),
        pytest.param('"1"', None, False, False, id="no_current_etag"),
    ],
)
def test_weak_and_strong_comparison(tags: str, etag: str | None, weak: bool, strong: bool) -> None:
    parsed = parse_etag_list(tags)
    assert parsed is not None
    assert weak_match(parsed, etag) is weak
    assert strong_match(parsed, etag) is strong


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(IMF, T, id="imf_fixdate"),
        pytest.param("Sunday, 06-Nov-94 08:49:37 GMT", T, id="rfc850"),
        pytest.param("Sun Nov  6 08:49:37 1994", T, id="asctime"),
        pytest.param("Sun, 06 Nov 1994 09:49:37 +0100", T, id="numeric_offset"),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("", None, id="empty"),
        pytest.param(f"{IMF}, {IMF}", None, id="two_dates"),
        pytest.param("Sun, 06 Nov 1994 25:49:37 GMT", None, id="hour_25"),
        pytest.param("Mon, 31 Feb 1994 08:49:37 GMT", None, id="february_31"),
        pytest.param(IMF + " " * 100, None, id="overlong"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_http_date(value: str | None, expected: int | None) -> None:
    assert parse_http_date(value) == expected


@pytest.mark.parametrize(
    ("mtime", "expected"),
    [(T + 0.9, T), (float(T), T), (-0.5, -1), (None, None), (float("nan"), None)],
)
def test_last_modified_is_whole_seconds(mtime: float | None, expected: int | None) -> None:
    assert last_modified_seconds(mtime) == expected


# (method, If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since) -> outcome,
# for a representation with ETag "1" modified at T + 0.5 (Last-Modified: T).
P, NM, PF = "proceed", "not_modified", "precondition_failed"


@pytest.mark.parametrize(
    ("method", "im", "ius", "inm", "ims", "expected"),
    [
        pytest.param("GET", None, None, None, None, P, id="no_preconditions"),
        # §13.1.1 If-Match: strong comparison
        pytest.param("GET", '"1"', None, None, None, P, id="if_match_strong_match_proceeds"),
        pytest.param("GET", "*", None, None, None, P, id="if_match_star_proceeds"),
        pytest.param("GET", '"2"', None, None, None, PF, id="if_match_mismatch_412"),
        pytest.param("GET", 'W/"1"', None, None, None, PF, id="if_match_weak_tag_412"),
        pytest.param("GET", "junk", None, None, None, PF, id="if_match_malformed_412"),
        # §13.1.4 If-Unmodified-Since, ignored when If-Match is present
        pytest.param("GET", None, IMF, None, None, P, id="ius_same_second_proceeds"),
        pytest.param("GET", None, AFTER, None, None, P, id="ius_later_proceeds"),
        pytest.param("GET", None, BEFORE, None, None, PF, id="ius_earlier_412"),
        pytest.param("GET", None, "junk", None, None, P, id="ius_bad_date_ignored"),
        pytest.param("GET", '"1"', BEFORE, None, None, P, id="ius_ignored_with_if_match"),
        # §13.1.2 If-None-Match: weak comparison
        pytest.param("GET", None, None, '"1"', None, NM, id="inm_match_304"),
        pytest.param("HEAD", None, None, '"1"', None, NM, id="inm_match_head_304"),
        pytest.param("GET", None, None, 'W/"1"', None, NM, id="inm_weak_tag_304"),
        pytest.param("GET", None, None, '"0", "1"', None, NM, id="inm_list_304"),
        pytest.param("GET", None, None, "*", None, NM, id="inm_star_304"),
        pytest.param("GET", None, None, '"2"', None, P, id="inm_mismatch_proceeds"),
        pytest.param("GET", None, None, "1", None, P, id="inm_unquoted_is_malformed"),
        # §13.1.3 If-Modified-Since, ignored when If-None-Match is present
        pytest.param("GET", None, None, None, IMF, NM, id="ims_same_second_304"),
        pytest.param("GET", None, None, None, AFTER, NM, id="ims_later_304"),
        pytest.param("GET", None, None, None, BEFORE, P, id="ims_earlier_proceeds"),
        pytest.param("GET", None, None, None, "junk", P, id="ims_bad_date_ignored"),
        pytest.param("GET", None, None, '"2"', AFTER, P, id="ims_ignored_with_inm"),
        pytest.param("GET", None, None, "junk", AFTER, P, id="ims_ignored_with_bad_inm"),
        # §13.2.2 order: 412 from If-Match wins over a matching If-None-Match
        pytest.param("GET", '"2"', None, '"1"', None, PF, id="if_match_before_inm"),
        pytest.param("GET", None, BEFORE, '"1"', None, PF, id="ius_before_inm"),
        pytest.param("GET", '"1"', None, '"1"', None, NM, id="if_match_ok_then_inm_304"),
        # methods other than GET/HEAD get 412, never 304 (§13.1.2)
        pytest.param("PUT", None, None, '"1"', None, PF, id="inm_match_on_put_412"),
        pytest.param("PUT", None, None, None, AFTER, P, id="ims_ignored_on_put"),
    ],
)
def test_evaluate_follows_rfc9110_order(
    method: str, im: str | None, ius: str | None, inm: str | None, ims: str | None, expected: str
) -> None:
    assert evaluate(method, im, ius, inm, ims, "1", T + 0.5) == expected


def test_evaluate_without_mtime_ignores_dates() -> None:
    assert evaluate("GET", None, BEFORE, None, None, "1", None) == P
    assert evaluate("GET", None, None, None, AFTER, "1", None) == P


def test_evaluate_lenient_accepts_unquoted_if_none_match() -> None:
    assert evaluate("GET", None, None, "1", None, "1", T, lenient=True) == NM


@pytest.mark.parametrize(
    ("if_range", "expected"),
    [
        pytest.param(None, True, id="absent_holds"),
        pytest.param('"1"', True, id="strong_match_holds"),
        pytest.param('W/"1"', False, id="weak_tag_never_holds"),
        pytest.param('"2"', False, id="other_tag_fails"),
        pytest.param('"1", "2"', False, id="list_is_not_an_if_range"),
        pytest.param('"1', False, id="malformed_tag_fails"),
        pytest.param(IMF, True, id="exact_date_holds"),
        pytest.param(AFTER, False, id="later_date_fails"),
        pytest.param(BEFORE, False, id="earlier_date_fails"),
        pytest.param("junk", False, id="junk_fails"),
    ],
)
def test_if_range(if_range: str | None, expected: bool) -> None:
    assert if_range_holds(if_range, "1", T + 0.5) is expected


def test_if_range_date_without_mtime_fails() -> None:
    assert if_range_holds(IMF, "1", None) is False


@given(st.text(alphabet='"W/ ,\t*1ab', max_size=10), st.sampled_from(["1", "ab", ""]))
def test_evaluate_if_none_match_agrees_with_the_full_parse(inm: str, etag: str) -> None:
    # evaluate() compares an exact '"tag"' / 'W/"tag"' without parsing: same outcome
    tags = parse_etag_list(inm)
    expected = NM if tags is not None and weak_match(tags, etag) else P
    assert evaluate("GET", None, None, inm, None, etag, T) == expected
    assert evaluate("GET", None, None, inm, IMF, etag, T) == expected  # IMS then ignored
    assert evaluate("PUT", None, None, inm, None, etag, T) == (P if expected == P else PF)
