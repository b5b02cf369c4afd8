"""SMB mounts against the suite's Samba (services.env)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.conformance.targets import mounted

pytestmark = pytest.mark.services


def test_many_threads_write_and_read_at_once(tmp_path: Path) -> None:
    """48 threads sharing one SMB mount (a threaded web server, a thread pool) write 4 MiB
    each, all at once, then read it back, all at once. A 1 MiB request spends 16 credits
    and Samba grants a session 64: smbprotocol refused the requests beyond instead of
    waiting ("Request requires 1 credits but only 0 credits are available"). The mount
    now asks for 512, and a request that finds too few waits for them to come back."""
    data = os.urandom(4 * 1024 * 1024)
    failures: list[str] = []
    together = threading.Barrier(48)
    with mounted("smb", tmp_path) as manager:

        def work(index: int) -> None:
            node = manager.node(f"m:t{index}.bin")
            together.wait(timeout=60)  # all the writes at once
            try:
                node.write_bytes(data)
            except Exception as exc:  # reported below, all of them
                failures.append(f"t{index}.bin written: {exc!r}")
            together.wait(timeout=60)  # then all the reads
            try:
                if node.read_bytes() != data:
                    failures.append(f"t{index}.bin: different bytes")
            except Exception as exc:
                failures.append(f"t{index}.bin read: {exc!r}")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(48)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert failures == []
