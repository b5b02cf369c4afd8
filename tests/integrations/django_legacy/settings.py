"""Django 4.2 settings using the legacy DEFAULT_FILE_STORAGE (removed in Django 5.1)."""

import os

SECRET_KEY = "legacy-tests"
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["genro_storage.integrations.django"]
ROOT_URLCONF = "tests.integrations.django_legacy.urls"
DEFAULT_FILE_STORAGE = "genro_storage.integrations.django.GenroStorage"
GENRO_STORAGE_MOUNTS = [{"name": "legacy", "type": "local", "path": os.environ["LEGACY_ROOT"]}]
GENRO_STORAGE_MOUNT = "legacy"
GENRO_STORAGE_LOCATION = "uploads"
GENRO_STORAGE_SERVE = ["legacy"]
