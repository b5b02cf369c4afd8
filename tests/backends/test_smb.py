"""SMB mounts against the suite's Samba (services.env)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.conformance.targets import mounted

pytestmark = pytest.mark.services


def test_sixteen_threads_write_and_read_at_once(tmp_path: Path) -> None:
    """Threads sharing one SMB mount (a threaded web server, a thread pool) each write and
    read 4 MiB at once. Samba grants 64 credits per session and a 1 MiB request spends
    16; smbprotocol refused the requests beyond instead of waiting ("Request requires 1
    credits but only 0 credits are available"). The mount now asks for 512."""
    data = os.urandom(4 * 1024 * 1024)
    failures: list[str] = []
    with mounted("smb", tmp_path) as manager:

        def work(index: int) -> None:
            try:
                node = manager.node(f"m:t{index}.bin")
                node.write_bytes(data)
                if node.read_bytes() != data:
                    failures.append(f"t{index}.bin: different bytes")
            except Exception as exc:  # reported below, all of them
                failures.append(f"t{index}.bin: {exc!r}")

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert failures == []
