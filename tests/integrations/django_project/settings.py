"""Settings of the Django test project (selected by tests/integrations/conftest.py).

Mounts default to private memory stores; tests switch them to local folders or S3 with
pytest-django's ``settings`` fixture, which exercises ``setting_changed``.
"""

import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
_RUN = uuid.uuid4().hex[:12]

SECRET_KEY = "genro-storage-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "genro_storage.integrations.django",
    "tests.integrations.django_project.testapp",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "tests.integrations.django_project.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

GENRO_STORAGE_MOUNTS = [
    {"name": "media", "type": "memory", "base_path": f"django-media-{_RUN}"},
    {"name": "static", "type": "memory", "base_path": f"django-static-{_RUN}"},
]
GENRO_STORAGE_SERVE = {"media": {}, "static": {"cache_max_age": 3600}}
STORAGES = {
    "default": {
        "BACKEND": "genro_storage.integrations.django.GenroStorage",
        "OPTIONS": {"mount": "media"},
    },
    "staticfiles": {
        "BACKEND": "genro_storage.integrations.django.GenroStorage",
        "OPTIONS": {"mount": "static", "file_overwrite": True},
    },
}
STATIC_URL = "/static/"
STATICFILES_DIRS = [HERE / "static_src"]
