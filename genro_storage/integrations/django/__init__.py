"""Django integration: :class:`GenroStorage` (a ``Storage``), a serve view and its URLs.

Settings (see :mod:`.conf`)::

    GENRO_STORAGE_MOUNTS = [
        {"name": "media", "type": "local", "path": BASE_DIR / "media"},
        {"name": "static", "type": "local", "path": BASE_DIR / "static-collected"},
    ]
    GENRO_STORAGE_SERVE = {"media": {}, "static": {"cache_max_age": 86400}}
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

and in ``urls.py``: ``path("files/", include("genro_storage.integrations.django.urls"))``.
"""

from .compat import AzureStorage, GoogleCloudStorage, S3Storage
from .conf import get_manager
from .static import GenroStaticStorage
from .storage import GenroStorage

__all__ = [
    "AzureStorage",
    "GenroStaticStorage",
    "GenroStorage",
    "GoogleCloudStorage",
    "S3Storage",
    "get_manager",
]
