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
    stream's share; the other four take about as much each, the small rest comes last."""
    download = _download(5, threshold=200 * MiB)
    plan = download._plan(200 * MiB, 1024 * MiB)
    taken_first = plan[::-1]  # pop() from the end
    assert [end - start for start, end in taken_first[:4]] == [1024 * MiB // 5 + 1] * 3 + [
        1024 * MiB - 4 * (1024 * MiB // 5 + 1)
    ]
    assert taken_first[-1] == (200 * MiB, 1024 * MiB // 5 + 1)
    # a first answer of a whole share (the size was known): the rest in 4 equal ranges
    share = -(-1024 * MiB // 5)
    assert len(download._plan(share, 1024 * MiB)) == 4
