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
"""

from __future__ import annotations

from typing import Any

from moto import backends
from moto.server import main
from werkzeug.serving import WSGIRequestHandler

_MODULES = tuple(backends.list_of_moto_modules())


def _unlogged(self: WSGIRequestHandler, code: Any = "-", size: Any = "-") -> None:
    pass


backends.list_of_moto_modules = lambda: _MODULES
WSGIRequestHandler.log_request = _unlogged  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
