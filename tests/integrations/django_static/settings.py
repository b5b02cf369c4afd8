"""A small real Django site for the static files tests and bench/bench_django_static.py.

Environment (read once, at start-up; the tests and the benchmark set them):

- ``STATIC_SITE_MODE``: ``genro`` (default: GenroStaticStorage + StaticFilesMiddleware) or
  ``whitenoise`` (CompressedManifestStaticFilesStorage + WhiteNoiseMiddleware);
- ``STATIC_SITE_MOUNT``: the JSON mount dict of the ``static`` mount (genro mode);
- ``STATIC_SITE_ROOT``: STATIC_ROOT (whitenoise mode);
- ``STATIC_SITE_SRC``: the source folder collectstatic reads (default: ``static_src``);
- ``STATIC_SITE_OPTIONS``: JSON ``GENRO_STORAGE_STATIC``;
- ``STATIC_SITE_STORAGE``: JSON, more ``OPTIONS`` of the static storage (genro mode);
- ``STATIC_SITE_ASGI``: ``wrapped`` wraps ``asgi.application`` in ``StaticFilesASGI``.
"""

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODE = os.environ.get("STATIC_SITE_MODE", "genro")

SECRET_KEY = "genro-storage-static-site-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "genro_storage.integrations.django",
]
ROOT_URLCONF = "tests.integrations.django_static.urls"
DATABASES: dict = {}
STATIC_URL = "/static/"
STATICFILES_DIRS = [os.environ.get("STATIC_SITE_SRC") or str(HERE / "static_src")]  # assets.py

if MODE == "whitenoise":
    STATIC_ROOT = os.environ.get("STATIC_SITE_ROOT", str(HERE / "collected"))
    MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    MIDDLEWARE = ["genro_storage.integrations.django.middleware.StaticFilesMiddleware"]
    mount = json.loads(os.environ.get("STATIC_SITE_MOUNT") or "{}") or {
        "type": "local",
        "path": str(HERE / "collected"),
    }
    GENRO_STORAGE_MOUNTS = [{**mount, "name": "static"}]
    GENRO_STORAGE_STATIC = json.loads(os.environ.get("STATIC_SITE_OPTIONS") or "{}")
    STORAGE_OPTIONS = json.loads(os.environ.get("STATIC_SITE_STORAGE") or "{}")
    STORAGES = {
        "default": {
            "BACKEND": "genro_storage.integrations.django.GenroStorage",
            "OPTIONS": {"mount": "static", "location": "media"},
        },
        "staticfiles": {
            "BACKEND": "genro_storage.integrations.django.GenroStaticStorage",
            "OPTIONS": {"mount": "static", **STORAGE_OPTIONS},
        },
    }
