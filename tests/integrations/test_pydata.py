"""Real PyData consumers reading and writing mounts through ``genro://``.

pandas, pyarrow datasets, DuckDB, polars and universal_pathlib on a local mount; Dask on a
``LocalCluster`` whose workers are other processes, against S3 (moto), for
``dd.read_csv("genro://...")`` and for ``copy_to(..., executor=client)``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.integrations.fsspec import register
from tests.remote import add_remote_mount

register()

pd = pytest.importorskip("pandas")

CSV = "city,visits\nRome,3\nParis,5\nOslo,2\n"


@pytest.fixture
def mounts(tmp_path: Path) -> list[dict[str, Any]]:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "visits.csv").write_text(CSV)
    return [
        {"name": "data", "type": "local", "path": str(tmp_path)},
        {"name": "reports", "path": "data:in", "permissions": "readonly"},
    ]


def test_pandas_read_csv_and_to_parquet(mounts: list[dict[str, Any]], tmp_path: Path) -> None:
    options = {"config": mounts}
    frame = pd.read_csv("genro://reports/visits.csv", storage_options=options)
    assert frame["visits"].sum() == 10
    frame.to_parquet("genro://data/out/visits.parquet", storage_options=options)
    assert (tmp_path / "out" / "visits.parquet").stat().st_size > 0
    back = pd.read_parquet("genro://data/out/visits.parquet", storage_options=options)
    assert back.equals(frame)
    with pytest.raises(PermissionError, match="'reports'"):
        frame.to_csv("genro://reports/new.csv", storage_options=options)


def test_pyarrow_dataset_through_fsspec_handler(mounts: list[dict[str, Any]]) -> None:
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    manager = StorageManager(env=False)
    manager.configure(mounts)
    frame = pd.read_csv("genro://reports/visits.csv", storage_options={"config": mounts})
    for part in range(3):
        with manager.fs.open(f"data/parts/p{part}.parquet", "wb") as fh:
            frame.assign(part=part).to_parquet(fh)
    filesystem = pafs.PyFileSystem(pafs.FSSpecHandler(manager.fs))
    dataset = ds.dataset("data/parts", format="parquet", filesystem=filesystem)
    table = dataset.to_table(filter=ds.field("part") > 0)
    assert table.num_rows == 6
    assert sorted(set(table.column("part").to_pylist())) == [1, 2]


def test_duckdb_register_filesystem(mounts: list[dict[str, Any]]) -> None:
    duckdb = pytest.importorskip("duckdb")
    manager = StorageManager(env=False)
    manager.configure(mounts)
    con = duckdb.connect()
    con.register_filesystem(manager.fs)
    total = con.sql("SELECT sum(visits) FROM read_csv('genro://reports/visits.csv')").fetchall()
    assert total == [(10,)]
    con.sql(
        "COPY (SELECT * FROM read_csv('genro://reports/visits.csv')) TO 'genro://data/d.parquet'"
    )
    assert manager.node("data:d.parquet").exists
    con.close()


def test_polars_reads_through_fsspec(mounts: list[dict[str, Any]]) -> None:
    """Which polars calls reach a mount (polars 1.x/2.x; docs/pydata.md#polars)."""
    pl = pytest.importorskip("polars")
    import fsspec
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    options = {"config": mounts}
    manager = StorageManager(env=False)
    manager.configure(mounts)
    # 1. a genro:// URL: read_parquet(use_pyarrow=True) hands it to pyarrow, then fsspec
    frame = pl.read_csv(manager.fs.open("reports/visits.csv", "rb"))
    with fsspec.open("genro://data/pl.parquet", "wb", **options) as fh:
        frame.write_parquet(fh)
    url = pl.read_parquet("genro://data/pl.parquet", use_pyarrow=True, storage_options=options)
    assert url.equals(frame)
    # 2. file objects from fsspec.open / fs.open: every reader and writer, eager or lazy
    with fsspec.open("genro://reports/visits.csv", "rb", **options) as fh:
        assert pl.read_csv(fh)["visits"].sum() == 10
    with fsspec.open("genro://reports/visits.csv", "rb", **options) as fh:
        assert pl.scan_csv(fh).filter(pl.col("visits") > 2).collect().height == 2
    with manager.fs.open("data/pl.parquet", "rb") as fh:
        assert pl.scan_parquet(fh).select(pl.col("visits").max()).collect().item() == 5
    with manager.fs.open("data/pl.ndjson", "wb") as fh:
        frame.write_ndjson(fh)
    with manager.fs.open("data/pl.ndjson", "rb") as fh:
        assert pl.read_ndjson(fh).equals(frame)
    # 3. a lazy scan of a directory of files: pyarrow's dataset over FSSpecHandler
    arrow_fs = pafs.PyFileSystem(pafs.FSSpecHandler(manager.fs))
    lazy = pl.scan_pyarrow_dataset(ds.dataset("data/pl.parquet", filesystem=arrow_fs))
    assert lazy.filter(pl.col("city") == "Oslo").collect()["visits"].to_list() == [2]
    # polars' own URL readers know s3://, gs://, az://, http(s)://, file:// only: a
    # genro:// URL is taken as a local file name (or its options refused)
    with pytest.raises((FileNotFoundError, ValueError, OSError)):
        pl.read_csv("genro://reports/visits.csv", storage_options=options)
    with pytest.raises((FileNotFoundError, ValueError, OSError)):
        pl.scan_parquet("genro://data/pl.parquet", storage_options=options).collect()


def test_universal_pathlib_upath(mounts: list[dict[str, Any]]) -> None:
    upath = pytest.importorskip("upath")
    root = upath.UPath("genro://data/", config=mounts)
    uploads = root / "uploads" / "x.txt"
    uploads.write_text("via upath")
    assert uploads.read_text() == "via upath"
    assert uploads.exists() and uploads.is_file() and uploads.parent.is_dir()
    assert sorted(p.name for p in (root / "in").iterdir()) == ["visits.csv"]
    assert [p.name for p in root.glob("**/*.csv")] == ["visits.csv"]
    assert str(upath.UPath("genro://uploads/x", config=mounts)) == "genro://uploads/x"


def test_copy_to_with_an_executor_submits_each_file(mounts: list[dict[str, Any]]) -> None:
    manager = StorageManager(env=False)
    manager.configure(mounts)
    for i in range(5):
        manager.node(f"data:tree/f{i}.txt").write_text(f"file {i}")
    with ThreadPoolExecutor(2) as pool:
        manager.node("data:tree").copy_to("data:copy", executor=pool)
    assert sorted(n.basename for n in manager.node("data:copy").children()) == [
        f"f{i}.txt" for i in range(5)
    ]


# ---------------------------------------------------------------------- Dask, S3


@pytest.fixture(scope="module")
def s3_mounts() -> Iterator[list[dict[str, Any]]]:
    manager = StorageManager(env=False)
    add_remote_mount(manager, "s3", "data")
    for i in range(4):
        rows = "".join(f"{i},{j},{i * j}\n" for j in range(25))
        manager.node(f"data:csv/part-{i}.csv").write_text("part,row,value\n" + rows)
    yield manager.mount_configs()
    manager.close()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # never the fixed 8787: suites run side by side
            host="127.0.0.1",
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.services
@pytest.mark.slow
def test_dask_read_csv_on_worker_processes(
    s3_mounts: list[dict[str, Any]], dask_client: Any
) -> None:
    import dask.dataframe as dd

    started = time.monotonic()
    frame = dd.read_csv("genro://data/csv/*.csv", storage_options={"config": s3_mounts})
    assert frame.npartitions == 4
    total = frame["value"].sum().compute()
    assert total == sum(i * j for i in range(4) for j in range(25))
    pids = dask_client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values()) - {__import__("os").getpid()}) == 2
    print(f"dask read_csv on 2 worker processes: {time.monotonic() - started:.1f} s")


@pytest.mark.services
@pytest.mark.slow
def test_copy_to_executor_is_a_distributed_client(
    s3_mounts: list[dict[str, Any]], dask_client: Any
) -> None:
    manager = StorageManager(env=False)
    manager.configure(s3_mounts)
    manager.node("data:csv").copy_to("data:copied", executor=dask_client)
    copied = sorted(n.basename for n in manager.node("data:copied").children())
    assert copied == [f"part-{i}.csv" for i in range(4)]
    assert manager.node("data:copied/part-3.csv").read_text().startswith("part,row,value")
