from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from genro_storage.http.ranges import MERGE_GAP, UNSATISFIABLE, parse_range

U = UNSATISFIABLE


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        # RFC 9110 §14.1.2 examples on a 10000-byte representation
        pytest.param("bytes=0-499", 10000, [(0, 499)], id="first_500_bytes"),
        pytest.param("bytes=500-999", 10000, [(500, 999)], id="second_500_bytes"),
        pytest.param("bytes=-500", 10000, [(9500, 9999)], id="final_500_bytes_suffix"),
        pytest.param("bytes=9500-", 10000, [(9500, 9999)], id="final_500_bytes_open"),
        pytest.param("bytes=0-0,-1", 10000, [(0, 0), (9999, 9999)], id="first_and_last_byte"),
        # one-byte ranges
        pytest.param("bytes=0-0", 1, [(0, 0)], id="one_byte_file_first_byte"),
        pytest.param("bytes=-1", 1, [(0, 0)], id="one_byte_file_suffix_one"),
        pytest.param("bytes=-1", 10, [(9, 9)], id="suffix_one_is_last_byte"),
        pytest.param("bytes=9-9", 10, [(9, 9)], id="last_byte_explicit"),
        # clamping
        pytest.param("bytes=5-100", 10, [(5, 9)], id="last_pos_clamped"),
        pytest.param("bytes=-100", 10, [(0, 9)], id="suffix_longer_than_file_is_whole"),
        pytest.param("bytes=0-" + "9" * 40, 10, [(0, 9)], id="huge_last_pos_clamped"),
        pytest.param("bytes=-" + "9" * 40, 10, [(0, 9)], id="huge_suffix_is_whole"),
        pytest.param("bytes=" + "0" * 50 + "3-4", 10, [(3, 4)], id="leading_zeros"),
        # unsatisfiable
        pytest.param("bytes=10-", 10, U, id="first_pos_at_size"),
        pytest.param("bytes=10-20", 10, U, id="beyond_the_end"),
        pytest.param("bytes=" + "9" * 40 + "-", 10, U, id="huge_first_pos"),
        pytest.param("bytes=-0", 10, U, id="zero_suffix"),
        pytest.param("bytes=0-0", 0, U, id="empty_file_first_byte"),
        pytest.param("bytes=0-", 0, U, id="empty_file_open_range"),
        pytest.param("bytes=10-11,12-13", 10, U, id="all_ranges_beyond"),
        pytest.param("bytes=20-30,2-3", 10, [(2, 3)], id="unsatisfiable_items_dropped"),
        # empty file with a suffix range: satisfiable yet empty, so Range is ignored
        pytest.param("bytes=-5", 0, None, id="empty_file_suffix_ignored"),
        # malformed or not understood: ignore the header
        pytest.param("", 10, None, id="empty_header"),
        pytest.param("bytes", 10, None, id="no_equals"),
        pytest.param("bytes=", 10, None, id="no_ranges"),
        pytest.param("bytes=,,", 10, None, id="only_empty_elements"),
        pytest.param("items=0-1", 10, None, id="unknown_unit"),
        pytest.param("bytes=5-1", 10, None, id="last_before_first_invalid"),
        pytest.param("bytes=1", 10, None, id="no_dash"),
        pytest.param("bytes=a-b", 10, None, id="letters"),
        pytest.param("bytes=-", 10, None, id="bare_dash"),
        pytest.param("bytes=--1", 10, None, id="negative_suffix"),
        pytest.param("bytes=1-2-3", 10, None, id="two_dashes"),
        pytest.param("bytes=+1-2", 10, None, id="plus_sign"),
        pytest.param("bytes=0x1-2", 10, None, id="hex_number"),
        pytest.param("bytes=\u0661-2", 10, None, id="arabic_indic_digit_refused"),
        pytest.param("bytes=\u00b2-3", 10, None, id="superscript_digit_refused"),
        pytest.param("bytes=0-1,x", 10, None, id="one_bad_item_spoils_all"),
        pytest.param("bytes=5-1,0-1", 10, None, id="one_invalid_item_spoils_all"),
        # tolerated spellings
        pytest.param("Bytes=0-1", 10, [(0, 1)], id="unit_case_insensitive"),
        pytest.param(" bytes = 0 - 1 ", 10, [(0, 1)], id="whitespace_tolerated"),
        pytest.param("bytes=\t0-1 ,\t500-501", 999, [(0, 1), (500, 501)], id="tabs_around_items"),
        pytest.param("bytes=0-1,,", 10, [(0, 1)], id="empty_elements_skipped"),
        pytest.param("bytes= - 3", 10, [(7, 9)], id="spaced_suffix"),
    ],
)
def test_parse_range(header: str, size: int, expected: object) -> None:
    assert parse_range(header, size) == expected


def test_absent_header_is_none() -> None:
    assert parse_range(None, 10) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("bytes=0-,0-,0-", [(0, 999)], id="repeated_whole_file_coalesced"),
        pytest.param("bytes=0-10,5-20", [(0, 20)], id="overlap_merged"),
        pytest.param("bytes=0-1,2-3", [(0, 3)], id="adjacent_merged"),
        pytest.param("bytes=500-600,0-100", [(500, 600), (0, 100)], id="request_order_kept"),
        pytest.param(
            "bytes=900-950,0-10,300-310,5-20",
            [(900, 950), (0, 20), (300, 310)],
            id="merged_range_takes_its_first_members_place",
        ),
        pytest.param(
            "bytes=300-310,900-950,0-10,305-320",
            [(300, 320), (900, 950), (0, 10)],
            id="later_member_merged_into_earlier",
        ),
        pytest.param(
            f"bytes=0-0,{MERGE_GAP + 1}-{MERGE_GAP + 1}",
            [(0, MERGE_GAP + 1)],
            id="gap_of_merge_gap_merged",
        ),
        pytest.param(
            f"bytes=0-0,{MERGE_GAP + 2}-{MERGE_GAP + 2}",
            [(0, 0), (MERGE_GAP + 2, MERGE_GAP + 2)],
            id="larger_gap_kept_apart",
        ),
        pytest.param("bytes=10-20,12-15", [(10, 20)], id="contained_range_absorbed"),
    ],
)
def test_ranges_are_coalesced(header: str, expected: list[tuple[int, int]]) -> None:
    assert parse_range(header, 1000) == expected


def test_more_ranges_than_allowed_are_ignored() -> None:
    header = "bytes=" + ",".join(f"{i * 200}-{i * 200}" for i in range(17))
    assert parse_range(header, 10_000, max_ranges=16) is None
    assert len(parse_range(header, 10_000, max_ranges=17)) == 17  # type: ignore[arg-type]


def test_a_reasonable_number_of_empty_elements_is_skipped() -> None:
    assert parse_range("bytes=" + "," * 60 + "0-1", 10, max_ranges=1) == [(0, 1)]
    assert parse_range("bytes=" + "," * 65 + "0-1", 10, max_ranges=1) is None


def test_unsatisfiable_repr() -> None:
    assert repr(UNSATISFIABLE) == "UNSATISFIABLE"


def test_max_ranges_counts_requested_ranges_before_coalescing() -> None:
    assert parse_range("bytes=0-,0-,0-", 10, max_ranges=2) is None


@pytest.mark.parametrize(
    "header",
    [
        "bytes=" + "0-0," * 300_000,
        "bytes=" + "1" * 1_000_000 + "-",
        "bytes=" + "-" * 1_000_000,
        "bytes=" + " " * 1_000_000 + "0-1",
        "bytes=" + "," * 1_000_000 + "0-1",
        "bytes=0-1" + " " * 1_000_000 + "x",
    ],
    ids=["many_items", "megabyte_number", "dashes", "spaces", "commas", "trailing_junk"],
)
def test_megabyte_header_parses_fast(header: str) -> None:
    start = time.perf_counter()
    parse_range(header, 10**9)
    assert time.perf_counter() - start < 0.5


def _check(result: object, size: int) -> None:
    if result is None or result is UNSATISFIABLE:
        return
    assert isinstance(result, list) and result
    previous_last = -2
    for first, last in sorted(result):  # in request order; by position, disjoint
        assert 0 <= first <= last < size
        assert first > previous_last + 1  # disjoint, not adjacent
        previous_last = last


@given(st.text(max_size=200), st.integers(min_value=0, max_value=10**12))
def test_arbitrary_text_never_crashes_or_escapes_the_file(header: str, size: int) -> None:
    _check(parse_range(header, size), size)


_number = st.integers(min_value=0, max_value=2000).map(str)
_spec = st.one_of(
    st.tuples(_number, _number).map("-".join),
    _number.map(lambda n: n + "-"),
    _number.map(lambda n: "-" + n),
)


@given(st.lists(_spec, min_size=1, max_size=20), st.integers(min_value=0, max_value=1500))
def test_well_formed_ranges_cover_exactly_the_requested_bytes(specs: list[str], size: int) -> None:
    result = parse_range("bytes=" + ",".join(specs), size, max_ranges=20)
    _check(result, size)
    wanted: set[int] = set()
    invalid = False
    for spec in specs:
        first, _, last = spec.partition("-")
        if not first:
            wanted.update(range(max(size - int(last), 0), size))
        elif last and int(last) < int(first):
            invalid = True
        else:
            wanted.update(range(int(first), min(int(last) if last else size - 1, size - 1) + 1))
    if invalid or (size == 0 and any(s.startswith("-") and int(s[1:]) > 0 for s in specs)):
        assert result is None
    elif not wanted:
        assert result is UNSATISFIABLE
    else:
        assert isinstance(result, list)
        covered = {b for first, last in result for b in range(first, last + 1)}
        assert wanted <= covered
        # coalescing may add only the small gaps between requested ranges
        assert all(min(abs(b - w) for w in wanted) <= MERGE_GAP for b in covered - wanted)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["0-0,", "-1,", "5-,", ",", " ", "x", "1"]))
def test_repeated_items_scale_linearly(item: str) -> None:
    small = "bytes=" + item * 20_000
    large = "bytes=" + item * 200_000
    # CPU time of this thread: a busy machine (other test workers) cannot stretch it
    start = time.thread_time()
    parse_range(small, 100)
    small_time = time.thread_time() - start
    start = time.thread_time()
    parse_range(large, 100)
    large_time = time.thread_time() - start
    assert large_time < max(small_time, 1e-3) * 40  # 10x input, well under 100x time
