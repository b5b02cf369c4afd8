"""One site with canaries, served by every HTTP surface, for the HTTP safety tests.

:func:`make_site` lays out, under ``base``::

    secret.txt                      canary, two levels above the public root
    site/secret.txt                 canary, just above the public root
    site/public/hello.txt           the one public file
    site/public/privdir/doc.txt     canary of the apps' private route /files/privdir
    site/public/up -> ..            a symlink leading out of the mount
    site/public/loop -> loop        a symlink loop (ELOOP)
    site/private/doc.txt            canary of the private mount (every surface)

and, for the HTTP correctness tests, ``public/`` also holds :data:`EXTRA` (a ``.gz`` file,
a ``.svgz`` image, a stylesheet with its precompressed sibling, a file for ranges) and
``zero.txt``, whose mtime is 0.

The surfaces, each built from ``GENRO_TEST_HOSTILE_BASE`` (the server subprocesses) or
from ``base`` (in process): :func:`wsgi_app`/:func:`asgi_app` (the apps: ``/files`` public,
``/files/privdir`` and ``/private`` private), :func:`flask_app`, :func:`starlette_app` and
the Django module ``hostile_django`` (``/files/<mount>/<path>``, ``public`` open,
``private`` signed).
"""

from __future__ import annotations

import gzip
import os
import uuid
from pathlib import Path
from typing import Any

SECRET = "hostile-site-signing-secret-0123456789"
HELLO = b"hello, public\n"
CSS = b"body { color: #333 }\n" * 40
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'
EXTRA = {
    "data.csv.gz": gzip.compress(b"a,b\n1,2\n" * 50, mtime=0),
    "logo.svgz": gzip.compress(SVG, mtime=0),
    "style.css": CSS,
    "style.css.gz": gzip.compress(CSS, mtime=0),
    "digits.txt": b"0123456789" * 100,
}


def canaries(base: Path) -> dict[str, bytes]:
    """Each canary file's path (relative to ``base``) and its unique content."""
    token = (base / "token").read_text() if (base / "token").exists() else ""
    return {
        name: f"CANARY-{name}-{token}".encode()
        for name in (
            *("secret.txt", "site/secret.txt"),
            *("site/public/privdir/doc.txt", "site/private/doc.txt"),
        )
    }


def make_site(base: Path) -> dict[str, bytes]:
    """Write the site under ``base``; return the canaries (path -> content)."""
    (base / "token").write_text(uuid.uuid4().hex)
    (base / "site/public/privdir").mkdir(parents=True)
    (base / "site/private").mkdir(parents=True)
    (base / "site/public/hello.txt").write_bytes(HELLO)
    for name, data in EXTRA.items():
        (base / "site/public" / name).write_bytes(data)
    (base / "site/public/zero.txt").write_bytes(b"version-1\n")
    os.utime(base / "site/public/zero.txt", (0, 0))
    (base / "site/public/up").symlink_to("..", target_is_directory=True)
    (base / "site/public/loop").symlink_to("loop")  # ELOOP on every lookup
    (base / "site/public/dir").mkdir()
    (base / "site/public/dir/nested.txt").write_bytes(HELLO)
    (base / "site/public/dir/loop").symlink_to("loop")  # listed with it: skipped
    found = canaries(base)
    for name, data in found.items():
        (base / name).write_bytes(data)
    return found


def mounts(base: Path) -> list[dict[str, Any]]:
    site = base / "site"
    return [
        {"name": "public", "type": "local", "path": str(site / "public")},
        {"name": "privdir", "type": "local", "path": str(site / "public/privdir")},
        {"name": "private", "type": "local", "path": str(site / "private")},
    ]


APP_SERVE = {
    "/files": {"mount": "public", "index": True},
    "/files/privdir": {"mount": "privdir", "private": True, "secret": SECRET, "index": True},
    "/private": {"mount": "private", "private": True, "secret": SECRET},
    "/cached": {"mount": "public", "cache_max_age": 60},
    "/uncached": {"mount": "public", "cache_control": False},
}
"""The WSGI/ASGI apps' routes: a private route nested in a public one."""

INTEGRATION_SERVE = {"public": {"index": True}, "private": {"private": True}}
"""Django/Flask/Starlette: ``/files/public/...`` open, ``/files/private/...`` signed."""


def _base(base: Path | None) -> Path:
    return base or Path(os.environ["GENRO_TEST_HOSTILE_BASE"])


def wsgi_app(base: Path | None = None) -> Any:
    from genro_storage.serving.wsgi_app import WSGIApp

    return WSGIApp(mounts(_base(base)), APP_SERVE)


def asgi_app(base: Path | None = None) -> Any:
    from genro_storage.serving.asgi_app import ASGIApp

    return ASGIApp(mounts(_base(base)), APP_SERVE)


def flask_app(base: Path | None = None) -> Any:
    from flask import Flask

    from genro_storage.integrations.flask import GenroStorage

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="hostile",
        GENRO_STORAGE_MOUNTS=mounts(_base(base)),
        GENRO_STORAGE_SERVE=INTEGRATION_SERVE,
        GENRO_STORAGE_SIGNING_SECRET=SECRET,
    )
    GenroStorage(app)
    return app


def starlette_app(base: Path | None = None) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from genro_storage.integrations.starlette import StarletteStorage

    storage = StarletteStorage(mounts(_base(base)), serve=INTEGRATION_SERVE, signing_secret=SECRET)
    return Starlette(routes=[Mount("/files", app=storage, name="files")])


def starlette_router(base: Path | None = None) -> Any:
    """The bare ``storage.router`` (a Starlette ``Router``), mounted at the root."""
    from genro_storage.integrations.starlette import StarletteStorage

    storage = StarletteStorage(mounts(_base(base)), serve=INTEGRATION_SERVE, signing_secret=SECRET)
    return storage.router
