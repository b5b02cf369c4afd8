"""0.4.2 compatibility, docs/copy-strategies.md: SkipStrategy, a str-based Enum."""

from __future__ import annotations

from enum import Enum

import pytest

from genro_storage import SkipStrategy, StorageManager

MEMBERS = {"NEVER": "never", "EXISTS": "exists", "SIZE": "size", "HASH": "hash", "CUSTOM": "custom"}
ADDED = {"MTIME": "mtime"}  # 0.5.0 (docs/copy-strategies.md), after the 0.4.2 members


def test_members_and_values() -> None:
    assert {m.name: m.value for m in SkipStrategy} == {**MEMBERS, **ADDED}
    assert [m.name for m in SkipStrategy] == [*MEMBERS, *ADDED]
    assert SkipStrategy.__mro__[1:3] == (str, Enum)


@pytest.mark.parametrize(("name", "value"), list(MEMBERS.items()))
def test_members_compare_equal_to_their_strings(name: str, value: str) -> None:
    member = SkipStrategy[name]
    assert member == value and value == member and isinstance(member, str)
    assert SkipStrategy(value) is member
    assert {value: 1}[member] == 1 and hash(member) == hash(value)


def test_unknown_value() -> None:
    with pytest.raises(ValueError):
        SkipStrategy("sometimes")


@pytest.mark.parametrize("skip", [SkipStrategy.SIZE, "size"])
def test_copy_to_accepts_either_form(storage: StorageManager, skip: object) -> None:
    storage.node("mem:src/f").write("abc")
    storage.node("home:dst/f").write("xyz")
    reasons: list[str] = []
    storage.node("mem:src").copy_to(
        "home:dst",
        skip=skip,  # type: ignore[arg-type]
        on_skip=lambda n, r: reasons.append(r),
    )
    assert reasons == ["same size (3 bytes)"]
