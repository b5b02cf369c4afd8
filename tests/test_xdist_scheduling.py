"""The rules of ``tests/_xdist.py`` (how pytest-xdist workers share the suite) still name
real tests: a renamed test or module must not silently drop out of its group."""

from __future__ import annotations

import re

import pytest

from tests._xdist import FIRST, GROUPS, WAITING, group_of, order, rank


def _collected(request: pytest.FixtureRequest) -> list[str]:
    """The ids of this run's tests; skips in a run that deselects by mark or keyword (the
    fast tier), where a rule's tests may be left out on purpose."""
    if request.config.option.markexpr or request.config.option.keyword:
        pytest.skip("a run that deselects tests (-m, -k): the rules name the whole suite's")
    return [item.nodeid for item in request.session.items]


def test_every_group_rule_matches_the_tests_of_its_module(request: pytest.FixtureRequest) -> None:
    ids = _collected(request)
    for pattern, _template in GROUPS:
        module = re.compile(pattern.pattern.split("::")[0] + "::")
        in_module = [i for i in ids if module.match(i)]
        if not in_module:  # the module is not part of this run (a subset, --fast)
            continue
        assert any(pattern.match(i) for i in in_module), f"{pattern.pattern} matches no test"


def test_every_first_entry_names_a_test_or_group(request: pytest.FixtureRequest) -> None:
    units = {group_of(i) or i for i in _collected(request)}
    if len(units) < 1000:
        pytest.skip("a subset of the suite: FIRST names tests of the whole suite")
    for prefix in (*FIRST, *WAITING):
        assert any(unit.startswith(prefix) for unit in units), f"{prefix!r} names nothing"


def test_group_of_reads_the_rules_and_leaves_other_tests_alone() -> None:
    read = "tests/conformance/test_read_contract.py::test_read_range"
    assert group_of(f"{read}[sftp]") == "tree-sftp"
    assert group_of(f"{read}[libarchive-7z]") == "tree-libarchive-7z"
    copy = "tests/conformance/test_read_contract.py::test_second_copy_to_local_skips_everything"
    assert group_of(f"{copy}[tar.bz2-size]") == "tree-tar.bz2"
    assert group_of("tests/test_paths.py::test_x[a@b]") is None  # an @ inside the id
    assert group_of("tests/test_paths.py::test_x[a]@mine") == "mine"  # xdist's own suffix
    assert group_of("tests/test_paths.py::test_x") is None


class Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_order_puts_first_the_listed_tests_and_keeps_the_rest() -> None:
    head = "tests/integrations/test_django_42.py::test_integration_passes_on_django_42"
    items = [Item("tests/a.py::t1"), Item(head), Item("tests/a.py::t2")]
    assert [i.nodeid for i in order(items)] == [head, "tests/a.py::t1", "tests/a.py::t2"]
    assert rank(head) == 0 and rank("tests/a.py::t1") == len(FIRST)


def test_order_spreads_the_waiting_tests_over_the_first_part_of_the_run() -> None:
    waiting = [Item(f"{WAITING[0]}[{kind}]") for kind in ("s3", "gcs", "azure")]
    rest = [Item(f"tests/a.py::t{n}") for n in range(100)]
    ids = [i.nodeid for i in order([*waiting, *rest])]
    positions = [ids.index(i.nodeid) for i in waiting]
    assert positions == sorted(positions)
    # one waiting test every 15 others, within the first 60 % (WAITING_SPAN)
    assert [b - a for a, b in zip(positions, positions[1:])] == [16, 16]
    assert positions[0] == 15 and positions[-1] < 60
    assert [i for i in ids if i.startswith("tests/a.py")] == [i.nodeid for i in rest]
