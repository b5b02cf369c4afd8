from __future__ import annotations

import pytest

from genro_storage.http.options import ServeOptions


def test_defaults() -> None:
    options = ServeOptions()
    assert (options.download, options.download_name, options.cache_max_age) == (False, None, None)
    assert (options.immutable, options.extra_headers, options.max_ranges) == (False, (), 16)
    assert (options.charset, options.legacy) == ("utf-8", False)


def test_extra_headers_list_is_frozen_into_tuples() -> None:
    options = ServeOptions(extra_headers=[["Access-Control-Allow-Origin", "*"]])  # type: ignore[arg-type]
    assert options.extra_headers == (("Access-Control-Allow-Origin", "*"),)
    assert hash(options) == hash(
        ServeOptions(extra_headers=(("Access-Control-Allow-Origin", "*"),))
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"cache_max_age": -1}, id="negative_max_age"),
        pytest.param({"cache_max_age": 1.5}, id="float_max_age"),
        pytest.param({"max_ranges": 0}, id="zero_max_ranges"),
        pytest.param({"max_ranges": "3"}, id="str_max_ranges"),
        pytest.param({"charset": ""}, id="empty_charset"),
        pytest.param({"charset": "utf-8\r\nX: y"}, id="charset_injection"),
        pytest.param({"extra_headers": (("Bad Name", "v"),)}, id="header_name_with_space"),
        pytest.param({"extra_headers": (("", "v"),)}, id="empty_header_name"),
        pytest.param({"extra_headers": ((1, "v"),)}, id="non_str_header_name"),
        pytest.param({"extra_headers": (("X-A", "v\r\nSet-Cookie: a=b"),)}, id="value_crlf"),
        pytest.param({"extra_headers": (("X-A", "v\x00"),)}, id="value_nul"),
        pytest.param({"extra_headers": (("X-A", 3),)}, id="non_str_value"),
        pytest.param({"extra_headers": (("X-A", "€"),)}, id="value_not_latin1"),
        pytest.param({"extra_headers": (("Content-Length", "0"),)}, id="content_length"),
        pytest.param({"extra_headers": (("content-range", "x"),)}, id="content_range"),
        pytest.param({"extra_headers": (("Transfer-Encoding", "chunked"),)}, id="te"),
    ],
)
def test_invalid_options_raise_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ServeOptions(**kwargs)  # type: ignore[arg-type]


def test_latin1_extra_header_value_is_accepted() -> None:
    assert ServeOptions(extra_headers=(("X-Name", "café"),)).extra_headers[0][1] == "café"
