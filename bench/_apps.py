"""The servers bench_serve.py compares, built from BENCH_ROOT (the directory of files).

Every app serves that directory under ``/static/`` with ``max-age=60`` and a CORS header,
which is what whitenoise and servestatic do by default.
"""

from __future__ import annotations

import os

ROOT = os.environ.get("BENCH_ROOT", "")
SERVE = {
    "/static": {
        "mount": "site",
        "cache_max_age": 60,
        "headers": {"Access-Control-Allow-Origin": "*"},
    }
}


def _mounts() -> list[dict[str, str]]:
    return [{"name": "site", "type": "local", "path": ROOT}]


# The same route keeping each file's stat for 60 s: no system call before the body, as
# whitenoise (which indexes the directory once, at startup) and servestatic.
CACHED = {"/static": {**SERVE["/static"], "cache_stat": 60}}


def ours_wsgi():  # type: ignore[no-untyped-def]
    from genro_storage.serving.wsgi_app import WSGIApp

    return WSGIApp(_mounts(), SERVE)


def ours_wsgi_cached():  # type: ignore[no-untyped-def]
    from genro_storage.serving.wsgi_app import WSGIApp

    return WSGIApp(_mounts(), CACHED)


def ours_asgi():  # type: ignore[no-untyped-def]
    from genro_storage.serving.asgi_app import ASGIApp

    return ASGIApp(_mounts(), SERVE)


def ours_asgi_cached():  # type: ignore[no-untyped-def]
    from genro_storage.serving.asgi_app import ASGIApp

    return ASGIApp(_mounts(), CACHED)


def _not_found(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not Found"]


def whitenoise():  # type: ignore[no-untyped-def]
    from whitenoise import WhiteNoise

    return WhiteNoise(_not_found, root=ROOT, prefix="static/", max_age=60)


def whitenoise_autorefresh():  # type: ignore[no-untyped-def]
    """whitenoise looking files up per request, as a server of changing mounts must."""
    from whitenoise import WhiteNoise

    return WhiteNoise(_not_found, root=ROOT, prefix="static/", max_age=60, autorefresh=True)


def starlette():  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    return Starlette(routes=[Mount("/static", app=StaticFiles(directory=ROOT))])


def servestatic():  # type: ignore[no-untyped-def]
    from servestatic import ServeStaticASGI

    return ServeStaticASGI(None, root=ROOT, prefix="static/", max_age=60)
