from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from genro_storage.http.signing import canonical_path, sign_path, verify

SECRET = "s3cr3t-key-with-enough-entropy"
NOW = 1_700_000_000
EXPIRES = NOW + 3600


def _query(path: str = "/docs/q3.pdf", secret: str | bytes = SECRET) -> str:
    return sign_path(path, secret, EXPIRES)


def test_sign_path_returns_expires_and_signature() -> None:
    params = parse_qs(_query())
    assert params["expires"] == [str(EXPIRES)]
    (signature,) = params["signature"]
    assert len(signature) == 43 and "=" not in signature
    assert set(signature) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_round_trip_with_query_string() -> None:
    assert verify("/docs/q3.pdf", _query(), SECRET, now=NOW) is True


def test_round_trip_with_mapping_of_lists_and_of_strings() -> None:
    params = parse_qs(_query())
    assert verify("/docs/q3.pdf", params, SECRET, now=NOW) is True
    assert verify("/docs/q3.pdf", {k: v[0] for k, v in params.items()}, SECRET, now=NOW)


def test_bytes_and_str_secrets_are_the_same_key() -> None:
    assert verify("/docs/q3.pdf", _query(secret=SECRET.encode()), SECRET, now=NOW)


@pytest.mark.parametrize(
    "spelling",
    ["docs/q3.pdf", "/docs//q3.pdf", "//docs/q3.pdf/", "/docs%2Fq3.pdf", "/docs/q3%2Epdf"],
)
def test_equivalent_path_spellings_verify(spelling: str) -> None:
    assert verify(spelling, _query(), SECRET, now=NOW)


@pytest.mark.parametrize(
    ("path", "canonical"),
    [("a//b/", "/a/b"), ("/", "/"), ("", "/"), ("/a%20b", "/a b"), ("/a/../b", "/a/../b")],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


def test_expiry_is_inclusive_then_refused() -> None:
    assert verify("/docs/q3.pdf", _query(), SECRET, now=EXPIRES) is True
    assert verify("/docs/q3.pdf", _query(), SECRET, now=EXPIRES + 0.001) is False


def test_default_now_is_the_clock() -> None:
    assert verify("/x", sign_path("/x", SECRET, 4_000_000_000), SECRET) is True
    assert verify("/x", sign_path("/x", SECRET, 1), SECRET) is False


def _tampered(name: str) -> tuple[str, str]:
    query = _query()
    signature = parse_qs(query)["signature"][0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return {
        "other_path": ("/docs/q4.pdf", query),
        "parent_path": ("/docs", query),
        "longer_expiry": ("/docs/q3.pdf", query.replace(str(EXPIRES), str(EXPIRES + 1))),
        "leading_zero_expiry": ("/docs/q3.pdf", query.replace(str(EXPIRES), "0" + str(EXPIRES))),
        "flipped_signature": ("/docs/q3.pdf", query.replace(signature, flipped)),
        "truncated_signature": ("/docs/q3.pdf", query.replace(signature, signature[:-1])),
        "empty_signature": ("/docs/q3.pdf", f"expires={EXPIRES}&signature="),
        "non_ascii_signature": ("/docs/q3.pdf", f"expires={EXPIRES}&signature=%C3%A9"),
        "no_signature": ("/docs/q3.pdf", f"expires={EXPIRES}"),
        "no_expiry": ("/docs/q3.pdf", f"signature={signature}"),
        "negative_expiry": ("/docs/q3.pdf", f"expires=-1&signature={signature}"),
        "non_digit_expiry": ("/docs/q3.pdf", f"expires=1e9&signature={signature}"),
        "unicode_digit_expiry": ("/docs/q3.pdf", f"expires=%D9%A1&signature={signature}"),
        "huge_expiry": ("/docs/q3.pdf", f"expires={'9' * 5000}&signature={signature}"),
        "repeated_signature": ("/docs/q3.pdf", f"{query}&signature={signature}"),
        "empty_query": ("/docs/q3.pdf", ""),
    }[name]


@pytest.mark.parametrize(
    "case",
    [
        "other_path",
        "parent_path",
        "longer_expiry",
        "leading_zero_expiry",
        "flipped_signature",
        "truncated_signature",
        "empty_signature",
        "non_ascii_signature",
        "no_signature",
        "no_expiry",
        "negative_expiry",
        "non_digit_expiry",
        "unicode_digit_expiry",
        "huge_expiry",
        "repeated_signature",
        "empty_query",
    ],
)
def test_tampered_links_are_refused(case: str) -> None:
    path, query = _tampered(case)
    assert verify(path, query, SECRET, now=NOW) is False


def test_wrong_secret_is_refused() -> None:
    assert verify("/docs/q3.pdf", _query(), "another-secret", now=NOW) is False


def test_key_rotation_accepts_any_listed_secret() -> None:
    old = _query(secret="old-key")
    new = _query(secret="new-key")
    keys: list[str | bytes] = ["new-key", b"old-key"]
    assert verify("/docs/q3.pdf", old, keys, now=NOW)
    assert verify("/docs/q3.pdf", new, keys, now=NOW)
    assert not verify("/docs/q3.pdf", _query(secret="retired"), keys, now=NOW)


def test_non_string_mapping_values_are_refused() -> None:
    assert verify("/x", {"expires": EXPIRES, "signature": b"x"}, SECRET, now=NOW) is False


@pytest.mark.parametrize(
    ("expires_at", "error"),
    [
        (1.5, TypeError),
        ("10", TypeError),
        (True, TypeError),
        (-1, ValueError),
        (10**12, ValueError),
    ],
)
def test_sign_path_refuses_bad_expiry(expires_at: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        sign_path("/x", SECRET, expires_at)  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", b""])
def test_empty_secret_raises(secret: str | bytes) -> None:
    with pytest.raises(ValueError):
        sign_path("/x", secret, EXPIRES)
    with pytest.raises(ValueError):
        verify("/x", _query(), secret, now=NOW)


def test_empty_secret_list_raises() -> None:
    with pytest.raises(ValueError):
        verify("/x", _query(), [], now=NOW)
