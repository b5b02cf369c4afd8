"""What each step of a local file copy costs: the atomic route against copying in place.

    .venv/bin/python bench/bench_copy_steps.py [--files 2000] [--rounds 5] [--size 1024]

Raw system calls only (no genro_storage code), so the figures say what the route costs
whatever the library around it does. Rows, each timed over ``--files`` files in
alternating rounds (best round kept), in a fresh folder of the temp directory's disk:

- ``in place``: ``shutil.copyfile`` (what fsspec's local ``cp_file`` does): the target is
  opened with ``O_TRUNC`` and filled; a failure part-way leaves it truncated or partial.
- ``in place + times/mode``: the same, then ``fchmod`` and ``futimens`` (``cp -p``).
- ``temp + rename``: a new temp sibling (``O_EXCL``), ``copy_file_range``, rename over the
  target: a failure leaves the old content (the library's route, without metadata).
- ``temp + rename + times/mode/xattrs``: the library's route (``_publish.copy_local_file``).
- ``O_TMPFILE + link``: the same file made unnamed in the folder and named at the end
  (``linkat`` of ``/proc/self/fd/N``): one directory operation instead of two, for a new
  target only (``link`` does not replace an existing name).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for i in range(args.files):
            (src / f"f{i:05d}.bin").write_bytes(os.urandom(args.size))
        n = args.files

        def source(i: int) -> str:
            return f"{src}/f{i:05d}.bin"

        def copy(target: str, i: int, *, temp: bool, meta: bool, xattrs: bool) -> None:
            fd_in = os.open(source(i), os.O_RDONLY | os.O_CLOEXEC)
            st = os.fstat(fd_in)
            path = f"{target}.tmp" if temp else target
            flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if temp else os.O_TRUNC)
            fd_out = os.open(path, flags, 0o600 if temp else 0o644)
            os.copy_file_range(fd_in, fd_out, st.st_size + 1024 * 1024)
            if xattrs:
                os.listxattr(fd_out)
            if meta:
                os.fchmod(fd_out, stat.S_IMODE(st.st_mode))
                os.utime(fd_out, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.close(fd_out)
            os.close(fd_in)
            if temp:
                os.replace(path, target)

        def unnamed(target: str, i: int) -> None:
            """An unnamed file in the folder (O_TMPFILE), named at the end (linkat)."""
            fd_in = os.open(source(i), os.O_RDONLY | os.O_CLOEXEC)
            st = os.fstat(fd_in)
            folder, name = os.path.split(target)
            fd_dir = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            fd_out = os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600, dir_fd=fd_dir)
            os.copy_file_range(fd_in, fd_out, st.st_size + 1024 * 1024)
            os.listxattr(fd_out)
            os.fchmod(fd_out, stat.S_IMODE(st.st_mode))
            os.utime(fd_out, ns=(st.st_atime_ns, st.st_mtime_ns))
            # (a dir_fd makes os.link call linkat, which follows the /proc link)
            os.link(f"/proc/self/fd/{fd_out}", name, dst_dir_fd=fd_dir, follow_symlinks=True)
            os.close(fd_out)
            os.close(fd_dir)
            os.close(fd_in)

        rows: dict[str, Callable[[str, int], None]] = {
            "in place (shutil.copyfile, fsspec)": lambda t, i: shutil.copyfile(source(i), t),
            "in place + times/mode": lambda t, i: copy(t, i, temp=False, meta=True, xattrs=False),
            "temp + rename": lambda t, i: copy(t, i, temp=True, meta=False, xattrs=False),
            "temp + rename + times/mode/xattrs (ours)": lambda t, i: copy(
                t, i, temp=True, meta=True, xattrs=True
            ),
            "O_TMPFILE + link + times/mode/xattrs": unnamed,
        }
        best = dict.fromkeys(rows, float("inf"))
        cpu = dict.fromkeys(rows, float("inf"))
        for r in range(args.rounds):
            for label, step in rows.items():
                out = Path(tmp) / f"out-{r}-{len(label)}"
                out.mkdir()
                began, began_cpu = time.perf_counter(), time.process_time()
                for i in range(n):
                    step(f"{out}/f{i:05d}.bin", i)
                best[label] = min(best[label], (time.perf_counter() - began) / n)
                cpu[label] = min(cpu[label], (time.process_time() - began_cpu) / n)
                shutil.rmtree(out)
        base = best["in place (shutil.copyfile, fsspec)"]
        for label in rows:
            print(
                f"{label:42s} {best[label] * 1e6:7.1f} us (CPU {cpu[label] * 1e6:5.1f} us)"
                f"  x{best[label] / base:4.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
