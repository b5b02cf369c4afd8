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


def test_part_options_are_read_as_sizes(cli: CLI, src: Path) -> None:  # noqa: F811
    """Local mounts have no parts: the options are accepted and change nothing."""
    result = cli.run("cp", "src/", "home:copy", "--part-size", "16M", "--part-concurrency", "3")
    assert result.returncode == 0, result.stderr.decode()
    assert tree(cli.home / "copy") == tree(src)
    result = cli.run("cp", "src/", "home:copy", "--part-size", "lots")
    assert result.returncode == 2
    assert "invalid size 'lots'" in result.stderr.decode()
    result = cli.run("cp", "src/", "home:copy", "--part-concurrency", "0")
    assert result.returncode == 2


def test_parse_size_reads_rclone_suffixes() -> None:
    import argparse

    import pytest

    from genro_storage.cli._sizes import parse_size

    assert parse_size("16M") == 16 * 1024**2
    assert parse_size("1.5G") == int(1.5 * 1024**3)
    assert parse_size("100B") == 100
    assert parse_size("64") == 64 * 1024  # a bare number is KiB, as in rclone
    assert parse_size("8MiB") == 8 * 1024**2
    for bad in ("", "x", "10M/s", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)
