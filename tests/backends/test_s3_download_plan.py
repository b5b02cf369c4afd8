"""How ``backends/_s3download`` cuts a large object into ranges (no server needed)."""

from __future__ import annotations

import random

import pytest

from genro_storage.backends._s3download import RangedDownload

MiB = 1024 * 1024


def _download(concurrency: int, threshold: int = 5 * MiB) -> RangedDownload:
    async def never(**_: object) -> dict[str, object]:
        raise AssertionError("no request here")

    return RangedDownload(
        never, "/nowhere", "mount 't'", concurrency, threshold=threshold, min_piece=5 * MiB
    )


@pytest.mark.parametrize("concurrency", [2, 3, 5, 8])
def test_the_ranges_cover_the_object_once_whatever_its_size(concurrency: int) -> None:
    rng = random.Random(concurrency)
    download = _download(concurrency)
    sizes = [0, 1, 11, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 6 * MiB, 1024 * MiB]
    sizes += [rng.randrange(1, 400 * MiB) for _ in range(300)]
    for total in sizes:
        first = min(total, 5 * MiB)  # what the sizing request brought
        plan = download._plan(first, total)
        assert all(start < end <= total for start, end in plan), (total, plan)
        spans = sorted([(0, first), *plan])
        assert spans[-1][1] == total
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), (total, spans)
        assert len(plan) <= concurrency


def test_every_stream_ends_about_together() -> None:
    """1 GiB in 5 streams: the first answer (200 MiB, the threshold) is nearly one
    stream's share (204.8 MiB): the other four take the rest, 206 MiB each; a first
    answer of 5 MiB leaves the rest of its share for last, when its stream is free."""
    download = _download(5, threshold=200 * MiB)
    plan = download._plan(200 * MiB, 1024 * MiB)
    assert [end - start for start, end in plan] == [206 * MiB] * 4
    share = -(-1024 * MiB // 5)
    assert len(download._plan(share, 1024 * MiB)) == 4  # the size was known: equal shares
    plan = _download(5)._plan(5 * MiB, 1024 * MiB)
    taken_first = plan[::-1]  # pop() from the end
    assert [end - start for start, end in taken_first[:3]] == [share] * 3
    assert taken_first[-1] == (5 * MiB, share)
