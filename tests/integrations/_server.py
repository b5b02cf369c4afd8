"""The apps gunicorn and uvicorn run in the real-socket tests (spec from GENRO_TEST_APP_SPEC)."""

from __future__ import annotations

from genro_storage.serving.asgi_app import ASGIApp
from genro_storage.serving.wsgi_app import WSGIApp
from tests.integrations._site import build_storage, spec_from_env

_spec = spec_from_env()
_storage = build_storage(_spec)
wsgi_app = WSGIApp(_storage, _spec["serve"])
asgi_app = ASGIApp(_storage, _spec["serve"])
