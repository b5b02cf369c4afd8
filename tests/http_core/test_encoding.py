from __future__ import annotations

import time

import pytest

from genro_storage.http.encoding import (
    ENCODING_SUFFIXES,
    choose_encoding,
    media_type_of,
    parse_accept_encoding,
    variant_path,
)

BOTH = ["br", "gzip"]


@pytest.mark.parametrize(
    ("header", "available", "expected"),
    [
        pytest.param(None, BOTH, None, id="no_header_gets_identity"),
        pytest.param("", BOTH, None, id="empty_header_means_identity_only"),
        pytest.param("gzip, deflate, br", BOTH, "br", id="tie_goes_to_server_order"),
        pytest.param("gzip, deflate, br", ["gzip", "br"], "gzip", id="server_order_respected"),
        pytest.param("gzip", BOTH, "gzip", id="only_gzip_accepted"),
        pytest.param("br;q=0.5, gzip;q=0.8", BOTH, "gzip", id="higher_q_wins"),
        pytest.param("br;q=0, gzip", BOTH, "gzip", id="q_zero_refuses"),
        pytest.param("gzip;q=0", ["gzip"], None, id="only_variant_refused"),
        pytest.param("*", BOTH, "br", id="star_accepts_all"),
        pytest.param("*;q=0", BOTH, None, id="star_q_zero_refuses_all"),
        pytest.param("*;q=0, gzip", BOTH, "gzip", id="named_beats_star"),
        pytest.param("br;q=0.2, *;q=0.5", BOTH, "gzip", id="star_weighs_unnamed"),
        pytest.param("identity", BOTH, None, id="identity_only"),
        pytest.param("gzip;q=0.5, identity", BOTH, None, id="identity_preferred"),
        pytest.param("gzip;q=0.5, identity;q=0.4", BOTH, "gzip", id="gzip_preferred"),
        pytest.param("gzip, identity;q=0", BOTH, "gzip", id="identity_refused"),
        pytest.param("identity;q=0", BOTH, None, id="nothing_fits_falls_back"),
        pytest.param("x-gzip", BOTH, "gzip", id="x_gzip_alias"),
        pytest.param("GZIP", BOTH, "gzip", id="case_insensitive"),
        pytest.param("gzip; Q=0", BOTH, None, id="param_name_case_insensitive"),
        pytest.param("br;q=2, gzip", BOTH, "gzip", id="bad_q_item_skipped"),
        pytest.param("gzip", [], None, id="nothing_available"),
    ],
)
def test_choose_encoding(header: str | None, available: list[str], expected: str | None) -> None:
    assert choose_encoding(header, available) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("1", 1.0),
        ("1.", 1.0),
        ("1.000", 1.0),
        ("0", 0.0),
        ("0.5", 0.5),
        ("0.123", 0.123),
        (" 0.5 ", 0.5),
        ("1.001", None),
        ("0.1234", None),
        ("2", None),
        (".5", None),
        ("0.x", None),
        ("", None),
        ("0.\u0661", None),
    ],
)
def test_qvalue_syntax(q: str, expected: float | None) -> None:
    weights = parse_accept_encoding(f"gzip;q={q}")
    assert weights.get("gzip") == expected


def test_other_parameters_are_ignored_and_first_occurrence_wins() -> None:
    assert parse_accept_encoding("gzip;level=9;q=0.5, gzip;q=1, , br") == {"gzip": 0.5, "br": 1.0}


def test_only_the_first_64_items_count() -> None:
    assert choose_encoding("x," * 63 + "gzip", ["gzip"]) == "gzip"
    assert choose_encoding("x," * 64 + "gzip", ["gzip"]) is None


def test_megabyte_header_is_fast() -> None:
    start = time.perf_counter()
    choose_encoding("," * 1_000_000, ["gzip"])
    choose_encoding("gzip;q=" + "0" * 1_000_000, ["gzip"])
    assert time.perf_counter() - start < 0.5


def test_variant_path() -> None:
    assert variant_path("static/app.js", "br") == "static/app.js.br"
    assert variant_path("static/app.js", "gzip") == "static/app.js.gz"
    assert list(ENCODING_SUFFIXES) == ["br", "gzip"]
    with pytest.raises(KeyError):
        variant_path("a", "deflate")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("app.css", ("text/css", None), id="plain_type"),
        pytest.param("app.css.gz", ("application/gzip", None), id="gz_is_a_gzip_file"),
        pytest.param("backup.tar.gz", ("application/gzip", None), id="tar_gz"),
        pytest.param("DATA.CSV.GZ", ("application/gzip", None), id="case_insensitive"),
        pytest.param("a.txt.bz2", ("application/x-bzip2", None), id="bz2"),
        pytest.param("a.txt.xz", ("application/x-xz", None), id="xz"),
        pytest.param("app.js.br", ("application/octet-stream", None), id="br_has_no_type"),
        pytest.param("logo.svgz", ("image/svg+xml", "gzip"), id="svgz_is_coded_svg"),
        pytest.param("LOGO.SVGZ", ("image/svg+xml", "gzip"), id="svgz_any_case"),
        pytest.param("noext", ("application/octet-stream", None), id="unknown"),
    ],
)
def test_media_type_of_a_file_sent_as_it_is(name: str, expected: tuple[str, str | None]) -> None:
    assert media_type_of(name) == expected
