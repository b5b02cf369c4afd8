"""moto's S3 server for the test suite (``scripts/services-start.sh``), with what it
spends on every request for nothing taken out. Same arguments as ``moto_server``.

Sampled with py-spy during a full run (2026-12-07), moto was a tenth of the suite's CPU,
and two of its per-request costs did no work:

* ``moto.backends.list_of_moto_modules()`` lists moto's package folder (``listdir`` and
  an ``isdir`` for each of about 150 entries) on every request, to route it: 9 % of
  moto's CPU. The folder does not change while the server runs, so it is listed once.
* werkzeug formats and logs a line per request: 3 %. Requests are not logged; errors
  still are (``logs/s3.log`` of the run folder).

Objects larger than 5 MiB go through a temporary file in moto
(``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE``); ``services-start.sh`` raises that bound so the
suite's 50 and 200 MiB objects stay in memory (8 % of moto's CPU was the rollover).

Sampled again later the same day, two more (together about a quarter of moto's CPU):

* A ranged GET copied the whole object out of its buffer before cutting the range
  (``FakeKey.value``), so reading a 50 MiB object in 5 MiB ranges copied 500 MiB. The
  last object read is kept (one slot, dropped when that key is written).
* While a test records requests (``tests/remote.py``: ``S3Requests``), moto wrote every
  request body into the recording as base64, other workers' 50 MiB uploads included.
  The tests read methods, URLs and headers only: bodies are not recorded.

And on 2026-12-08 (cProfile of moto under boto3's HEAD, GET and LIST): every timestamp
of a response (``LastModified`` of each listed key, the ``Last-Modified`` header) was
parsed back from its stored string with dateutil before being formatted again. The
formatted strings are kept (``_timestamp``): 6 % of moto's CPU per request there.

And one correctness fix: moto answers a conditional write (``If-None-Match: *``,
``If-Match``) by looking the key up, then writing, with no lock between, so two
concurrent creates of one name could both succeed (a Django test of concurrent saves
failed on it once). S3 decides such a write atomically; here conditional writes, copies,
deletes and multipart completions run one at a time.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto import backends
from moto.core.serialize import TimestampSerializer
from moto.moto_api._internal.recorder.models import Recorder
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from moto.server import main
from werkzeug.serving import WSGIRequestHandler

_MODULES = tuple(backends.list_of_moto_modules())


def _unlogged(self: WSGIRequestHandler, code: Any = "-", size: Any = "-") -> None:
    pass


def _no_body(self: Recorder, body: Any) -> tuple[str, bool]:
    return "", False


# ---------------------------------------------------------------- the last object read
_VALUE = FakeKey.value
_slot_lock = threading.Lock()
_slot: tuple[Any, int, bytes] | None = None  # (key, its write count, its bytes)


def _writes(key: Any) -> int:
    """A key's write count: odd while a write is in progress (a sequence lock)."""
    return int(getattr(key, "_genro_writes", 0))


def _read_value(key: Any) -> bytes:
    global _slot
    writes = _writes(key)
    slot = _slot
    if slot is not None and slot[0] is key and slot[1] == writes and writes % 2 == 0:
        return slot[2]
    value: bytes = _VALUE.fget(key)
    with _slot_lock:
        if writes % 2 == 0 and _writes(key) == writes:  # no write began or ended meanwhile
            _slot = (key, writes, value)
    return value


def _write_value(key: Any, new_value: Any) -> None:
    global _slot
    with _slot_lock:
        key._genro_writes = _writes(key) + 1
        _slot = None
    try:
        _VALUE.fset(key, new_value)
    finally:
        with _slot_lock:
            key._genro_writes = _writes(key) + 1
            _slot = None


# ---------------------------------------------------------------- timestamps
_TIMESTAMP = TimestampSerializer._convert_timestamp_to_str
_TIMESTAMPS = TimestampSerializer(TimestampSerializer.TIMESTAMP_FORMAT_ISO8601)


@functools.lru_cache(maxsize=1 << 16)
def _timestamp(value: Any, timestamp_format: str) -> str:
    return _TIMESTAMP(_TIMESTAMPS, value, timestamp_format)


def _cached_timestamp(self: TimestampSerializer, value: Any, timestamp_format: str) -> str:
    return _timestamp(value, timestamp_format)


# ---------------------------------------------------------------- conditional writes
_conditional = threading.Lock()


def _atomic_when_conditional(method: Any) -> Any:
    def run(self: S3Response, *args: Any, **kwargs: Any) -> Any:
        headers = self.headers or {}
        if "If-None-Match" in headers or "If-Match" in headers:
            with _conditional:
                return method(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return run


for _name in ("put_object", "copy_object", "delete_object", "_key_response_post"):
    setattr(S3Response, _name, _atomic_when_conditional(getattr(S3Response, _name)))

backends.list_of_moto_modules = lambda: _MODULES
WSGIRequestHandler.log_request = _unlogged  # type: ignore[method-assign]
Recorder._encode_body = _no_body  # type: ignore[method-assign]
FakeKey.value = property(_read_value, _write_value)  # type: ignore[method-assign,assignment]
TimestampSerializer._convert_timestamp_to_str = _cached_timestamp  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
