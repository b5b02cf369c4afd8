"""Settings of the example Django site: files on a genro-storage mount named ``files``.

By default the mount is a local folder, ``data/`` beside this project. Point
``GENRO_STORAGE_CONFIG`` at a YAML file defining a mount named ``files`` (for instance
``../s3.example.yaml``) to keep the files on S3 instead: no code changes.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
INSTALLED_APPS = ["genro_storage.integrations.django"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "site_config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
    }
]
WSGI_APPLICATION = "site_config.wsgi.application"
DATABASES: dict = {}  # the site keeps nothing but files
USE_TZ = True
DATA_UPLOAD_MAX_MEMORY_SIZE = None

# ---------------------------------------------------------------- genro-storage
if os.environ.get("GENRO_STORAGE_CONFIG"):
    GENRO_STORAGE_MOUNTS = os.environ["GENRO_STORAGE_CONFIG"]  # a YAML/JSON file with mount 'files'
else:
    (BASE_DIR / "data").mkdir(exist_ok=True)
    GENRO_STORAGE_MOUNTS = [{"name": "files", "type": "local", "path": str(BASE_DIR / "data")}]
GENRO_STORAGE_SERVE = {"files": {"download": True}}
STORAGES = {
    "default": {
        "BACKEND": "genro_storage.integrations.django.GenroStorage",
        "OPTIONS": {"mount": "files"},
    },
}
