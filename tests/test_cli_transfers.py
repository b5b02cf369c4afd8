"""CLI transfer knobs: ``--transfers``, ``--stats`` progress lines in bytes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_cli import CLI, cli, src, tree  # noqa: F401 - fixtures

__all__: list[str] = []


def test_stats_lines_report_files_and_bytes_without_a_terminal(cli: CLI, src: Path) -> None:  # noqa: F811
    result = cli.run("cp", "src/", "home:copy", "--stats", "0", "--transfers", "2")
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    assert lines, "no --stats line"
    last = lines[-1]
    assert re.match(r"^3/3 files, 9 B/9 B, [0-9.]+ (K|M|G)?i?B/s$", last), last
    assert tree(cli.home / "copy") == tree(src)


def test_transfers_must_be_positive(cli: CLI, src: Path) -> None:  # noqa: F811
    result = cli.run("cp", "src/", "home:copy", "--transfers", "0")
    assert result.returncode == 2
    assert "at least 1" in result.stderr.decode()
