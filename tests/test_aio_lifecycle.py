"""The async API's import paths and event-loop lifecycle (sync tests, own processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import genro_storage
from genro_storage import asyncer_wrapper


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
    )


def test_asyncer_wrapper_is_the_0_4_2_import_path() -> None:
    assert asyncer_wrapper.AsyncStorageManager is genro_storage.AsyncStorageManager
    assert asyncer_wrapper.AsyncStorageNode is genro_storage.AsyncStorageNode


def test_without_asyncer_the_names_are_none_and_the_wrapper_does_not_import() -> None:
    result = run_python(
        """
        import sys
        sys.modules["asyncer"] = None  # as if not installed
        import genro_storage
        assert genro_storage.AsyncStorageManager is None
        assert genro_storage.AsyncStorageNode is None
        try:
            import genro_storage.asyncer_wrapper
        except ImportError:
            print("ImportError")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ImportError"


@pytest.mark.services
def test_asyncio_run_closes_the_native_sessions_it_opened() -> None:
    from tests.services import ENV_VAR, require_services

    env = require_services("s3")
    import os

    result = run_python(
        """
        import asyncio, gc, s3fs, uuid
        from genro_storage import AsyncStorageManager
        from tests.remote import _mount

        bucket = "t" + uuid.uuid4().hex[:12]
        fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=ENDPOINT)
        fs.mkdir(bucket)
        storage = AsyncStorageManager()
        _mount(storage.storage, "s3", {"name": "s3", "type": "s3", "bucket": bucket,
               "key": "testing", "secret": "testing", "endpoint_url": ENDPOINT})

        async def main():
            await storage.node("s3:a.txt").write("a")
            return await storage.node("s3:a.txt").read()

        for _ in range(2):  # a second loop opens (and closes) its own session
            assert asyncio.run(main(), debug=True) == "a"
        gc.collect()
        print("ok")
        """.replace("ENDPOINT", repr(env["SVC_S3_ENDPOINT"])),
        env={ENV_VAR: os.environ[ENV_VAR]},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert "Unclosed" not in result.stderr and "never awaited" not in result.stderr
    assert "destroyed but it is pending" not in result.stderr


@pytest.mark.services
def test_a_fresh_process_sets_the_s3_driver_up_off_the_event_loop() -> None:
    """The first async call on an S3 mount creates its driver and client: botocore's
    session (~130 handlers registered) and JSON models (the S3 service, its endpoint
    rules, the partitions: ~50 ms of parsing) are made in worker threads, never on the
    loop itself."""
    from tests.services import ENV_VAR, require_services

    env = require_services("s3")
    import os

    result = run_python(
        """
        import asyncio, threading, uuid
        import s3fs
        from genro_storage import AsyncStorageManager
        from genro_storage.backends._botoload import DictFileLoader
        from tests.remote import _mount

        bucket = "t" + uuid.uuid4().hex[:12]
        s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=ENDPOINT).mkdir(bucket)
        on_loop = []
        real = DictFileLoader.load_file

        def spy(self, file_path):
            if threading.current_thread() is threading.main_thread():
                on_loop.append("/".join(file_path.split("/")[-3:]))
            return real(self, file_path)

        DictFileLoader.load_file = spy
        import genro_storage.backends.s3 as s3_backend

        real_session = s3_backend.s3_session

        def session_spy(mount_name):  # the mount's driver set-up: botocore's session
            if threading.current_thread() is threading.main_thread():
                on_loop.append("s3_session")
            return real_session(mount_name)

        s3_backend.s3_session = session_spy
        storage = AsyncStorageManager()
        _mount(storage.storage, "s3", {"name": "s3", "type": "s3", "bucket": bucket,
               "key": "testing", "secret": "testing", "endpoint_url": ENDPOINT})

        async def main():
            await storage.node("s3:a.txt").write("a")
            return await storage.node("s3:a.txt").read()

        assert asyncio.run(main()) == "a"
        print(on_loop)
        """.replace("ENDPOINT", repr(env["SVC_S3_ENDPOINT"])),
        env={ENV_VAR: os.environ[ENV_VAR]},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["AsyncStorageManager", "AsyncStorageNode"])
def test_async_classes_are_exported(name: str) -> None:
    assert name in genro_storage.__all__ and getattr(genro_storage, name) is not None
