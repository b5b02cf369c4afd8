"""S3 timestamps parsed without dateutil give what botocore's parser gives."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from botocore.utils import parse_timestamp as botocore_parse

from genro_storage.backends._timestamps import parse_timestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-07T08:09:10.123Z",  # ListObjectsV2 <LastModified>
        "2026-12-07T08:09:10Z",
        "1999-01-31T23:59:59.000Z",
        "Mon, 07 Dec 2026 08:09:10 GMT",  # Last-Modified header
        "Sun, 01 Feb 2026 00:00:00 GMT",
        "Wed, 29 Feb 2024 12:30:45 GMT",
    ],
)
def test_the_two_forms_s3_sends(value: str) -> None:
    ours = parse_timestamp(value)
    assert ours == botocore_parse(value)
    assert ours.utcoffset() is not None and ours.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-07T08:09:10+02:00",  # other forms: botocore's parser
        "1765094950",
        1765094950,
        "2026-12-07 08:09:10",
    ],
)
def test_other_forms_go_to_botocore(value: object) -> None:
    assert parse_timestamp(value) == botocore_parse(value)


def test_s3_sessions_parse_with_it() -> None:
    from genro_storage.backends.s3 import s3_session

    factory = s3_session("m").get_component("response_parser_factory")
    parser = factory.create_parser("rest-xml")
    assert parser._timestamp_parser is parse_timestamp
    assert parse_timestamp("Mon, 07 Dec 2026 08:09:10 GMT") == datetime(
        2026, 12, 7, 8, 9, 10, tzinfo=timezone.utc
    )


def test_a_bad_value_fails_as_in_botocore() -> None:
    with pytest.raises(ValueError):
        botocore_parse("Mon, 07 Xyz 2026 08:09:10 GMT")
    with pytest.raises(ValueError):
        parse_timestamp("Mon, 07 Xyz 2026 08:09:10 GMT")
