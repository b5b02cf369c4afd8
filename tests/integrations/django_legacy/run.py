"""Run by test_django_legacy.py in a fresh interpreter with Django < 5.1."""

import warnings

warnings.filterwarnings("error")
warnings.filterwarnings("ignore", message="The DEFAULT_FILE_STORAGE setting is deprecated")

import django  # noqa: E402

django.setup()

from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.test import Client  # noqa: E402

from genro_storage.integrations.django import GenroStorage  # noqa: E402

name = default_storage.save("legacy.txt", ContentFile(b"legacy setting"))
assert isinstance(default_storage._wrapped, GenroStorage), type(default_storage._wrapped)
url = default_storage.url(name)
response = Client().get(url)
assert response.status_code == 200, response.status_code
assert b"".join(response.streaming_content) == b"legacy setting"
print("ok", django.get_version(), name, url)
