"""Optional app config: add ``"genro_storage.integrations.django"`` to INSTALLED_APPS
to get ``manage.py check`` errors for broken ``GENRO_STORAGE*`` settings."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class GenroStorageConfig(AppConfig):
    name = "genro_storage.integrations.django"
    label = "genro_storage"
    verbose_name = "genro-storage"

    def ready(self) -> None:
        checks.register(check_settings, checks.Tags.compatibility)


def check_settings(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    """``GENRO_STORAGE_MOUNTS`` must configure and ``GENRO_STORAGE_SERVE`` name known mounts."""
    from django.core.exceptions import ImproperlyConfigured

    from . import conf

    try:
        conf.get_server()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="genro_storage.E001")]
    return []
