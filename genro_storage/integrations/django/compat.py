"""Drop-in replacements for django-storages' S3, Google Cloud and Azure storages.

A site on django-storages switches by changing ``BACKEND`` only::

    storages.backends.s3.S3Storage               -> genro_storage.integrations.django.S3Storage
    storages.backends.gcloud.GoogleCloudStorage  -> ...django.GoogleCloudStorage
    storages.backends.azure_storage.AzureStorage -> ...django.AzureStorage

Each class reads the ``OPTIONS`` and the settings django-storages reads (same names, same
defaults; an ``OPTIONS`` key wins over its setting), builds the mount itself (no
``GENRO_STORAGE_MOUNTS`` needed) and behaves as :class:`GenroStorage` from there. The
tables below (:data:`S3_SETTINGS`...) are the whole mapping; ``docs/django-migration.md``
lists them with what is not supported.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.deconstruct import deconstructible
from django.utils.functional import cached_property

from genro_storage.errors import PathTraversalError
from genro_storage.paths import normalize

from . import conf
from .storage import _DEFAULTS, GenroStorage

__all__ = [
    "AZURE_SETTINGS",
    "GCS_SETTINGS",
    "S3_SETTINGS",
    "AzureStorage",
    "GoogleCloudStorage",
    "S3Storage",
]

#: option -> (settings read in order, default), as django-storages' get_default_settings
Table = dict[str, tuple[tuple[str, ...], Any]]

S3_SETTINGS: Table = {
    "access_key": (("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"), None),
    "secret_key": (("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"), None),
    "security_token": (("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"), None),
    "bucket_name": (("AWS_STORAGE_BUCKET_NAME",), None),
    "endpoint_url": (("AWS_S3_ENDPOINT_URL",), None),
    "region_name": (("AWS_S3_REGION_NAME",), None),
    "location": (("AWS_LOCATION",), ""),
    "file_overwrite": (("AWS_S3_FILE_OVERWRITE",), True),
    "querystring_auth": (("AWS_QUERYSTRING_AUTH",), True),
    "querystring_expire": (("AWS_QUERYSTRING_EXPIRE",), 3600),
    "custom_domain": (("AWS_S3_CUSTOM_DOMAIN",), None),
    "url_protocol": (("AWS_S3_URL_PROTOCOL",), "https:"),
    "object_parameters": (("AWS_S3_OBJECT_PARAMETERS",), {}),
    "signature_version": (("AWS_S3_SIGNATURE_VERSION",), None),
    "addressing_style": (("AWS_S3_ADDRESSING_STYLE",), None),
}
GCS_SETTINGS: Table = {
    "bucket_name": (("GS_BUCKET_NAME",), None),
    "project_id": (("GS_PROJECT_ID",), None),
    "credentials": (("GS_CREDENTIALS",), None),
    "location": (("GS_LOCATION",), ""),
    "file_overwrite": (("GS_FILE_OVERWRITE",), True),
    "querystring_auth": (("GS_QUERYSTRING_AUTH",), True),
    "expiration": (("GS_EXPIRATION",), timedelta(seconds=86400)),
    "custom_endpoint": (("GS_CUSTOM_ENDPOINT",), None),
    "object_parameters": (("GS_OBJECT_PARAMETERS",), {}),
    # not django-storages': where the JSON API is (an emulator; else STORAGE_EMULATOR_HOST)
    "endpoint_url": (("GS_ENDPOINT_URL",), None),
}
AZURE_SETTINGS: Table = {
    "account_name": (("AZURE_ACCOUNT_NAME",), None),
    "account_key": (("AZURE_ACCOUNT_KEY",), None),
    "azure_container": (("AZURE_CONTAINER",), None),
    "connection_string": (("AZURE_CONNECTION_STRING",), None),
    "sas_token": (("AZURE_SAS_TOKEN",), None),
    "location": (("AZURE_LOCATION",), ""),
    "overwrite_files": (("AZURE_OVERWRITE_FILES",), False),
    "expiration_secs": (("AZURE_URL_EXPIRATION_SECS",), None),
    "custom_domain": (("AZURE_CUSTOM_DOMAIN",), None),
    "azure_ssl": (("AZURE_SSL",), True),
    "cache_control": (("AZURE_CACHE_CONTROL",), None),
    "object_parameters": (("AZURE_OBJECT_PARAMETERS",), {}),
}
_PREFIXES = ("AWS_", "GS_", "AZURE_", "GENRO_STORAGE")


class _DjangoStoragesStorage(GenroStorage):
    """A :class:`GenroStorage` configured from django-storages' options and settings."""

    table: ClassVar[Table] = {}
    label: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.table))
        if unknown:
            raise ImproperlyConfigured(
                f"{self.label}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(self.table))}"
            )
        super().__init__()
        self._storages_options = options

    def settings_values(self) -> dict[str, Any]:
        """Every option of :attr:`table`: from OPTIONS, else the settings, else the default."""
        values: dict[str, Any] = {}
        for option, (names, default) in self.table.items():
            if option in self._storages_options:
                values[option] = self._storages_options[option]
                continue
            values[option] = default
            for name in names:
                if getattr(settings, name, None) is not None:
                    values[option] = getattr(settings, name)
                    break
        return values

    def mount_config(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def storage_options(self, values: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    @cached_property
    def _options(self) -> dict[str, Any]:
        values = self.settings_values()
        config = {k: v for k, v in self.mount_config(values).items() if v is not None}
        digest = hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode())
        name = f"{config['type']}-{digest.hexdigest()[:12]}"
        self._mount_config = {"name": name, **config}
        conf.register_mount(self._mount_config)
        resolved = {**_DEFAULTS, **self.storage_options(values), "mount": name}
        try:
            resolved["location"] = normalize(str(resolved["location"] or "").strip("/"))
        except PathTraversalError as exc:
            raise ImproperlyConfigured(f"{self.label} location: {exc}") from exc
        return resolved

    def node(self, name: Any) -> Any:
        _ = self._options  # resolves the settings (and the mount config) once
        conf.register_mount(self._mount_config)  # again after a settings reset
        return super().node(name)

    def _on_setting_changed(self, *, setting: str, **_: Any) -> None:
        if setting.startswith(_PREFIXES):
            self.__dict__.pop("_options", None)


def _required(values: dict[str, Any], option: str, setting: str, label: str) -> Any:
    if not values.get(option):
        raise ImproperlyConfigured(f"{label} needs {setting} (or OPTIONS['{option}'])")
    return values[option]


@deconstructible(path="genro_storage.integrations.django.S3Storage")
class S3Storage(_DjangoStoragesStorage):
    """``storages.backends.s3.S3Storage``'s settings, on an ``s3`` mount."""

    table = S3_SETTINGS
    label = "S3Storage"

    def mount_config(self, values: dict[str, Any]) -> dict[str, Any]:
        config_kwargs = {}
        if values["signature_version"]:
            config_kwargs["signature_version"] = values["signature_version"]
        if values["addressing_style"]:
            config_kwargs["s3"] = {"addressing_style": values["addressing_style"]}
        return {
            "type": "s3",
            "bucket": _required(values, "bucket_name", "AWS_STORAGE_BUCKET_NAME", self.label),
            "key": values["access_key"],
            "secret": values["secret_key"],
            "token": values["security_token"],
            "endpoint_url": values["endpoint_url"],
            "region": values["region_name"],
            "config_kwargs": config_kwargs or None,
            "object_parameters": dict(values["object_parameters"] or {}) or None,
        }

    def storage_options(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "location": values["location"],
            "file_overwrite": bool(values["file_overwrite"]),
            "querystring_auth": bool(values["querystring_auth"]),
            "querystring_expire": int(values["querystring_expire"]),
            "custom_domain": values["custom_domain"],
            "url_protocol": values["url_protocol"],
            "public_urls": not values["querystring_auth"],
        }


@deconstructible(path="genro_storage.integrations.django.GoogleCloudStorage")
class GoogleCloudStorage(_DjangoStoragesStorage):
    """``storages.backends.gcloud.GoogleCloudStorage``'s settings, on a ``gcs`` mount."""

    table = GCS_SETTINGS
    label = "GoogleCloudStorage"

    def mount_config(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "gcs",
            "bucket": _required(values, "bucket_name", "GS_BUCKET_NAME", self.label),
            "project": values["project_id"],
            "token": values["credentials"],
            "endpoint_url": values["endpoint_url"],
            "object_parameters": dict(values["object_parameters"] or {}) or None,
        }

    def storage_options(self, values: dict[str, Any]) -> dict[str, Any]:
        expiration = values["expiration"]
        seconds = expiration.total_seconds() if isinstance(expiration, timedelta) else expiration
        endpoint = values["custom_endpoint"]
        return {
            "location": values["location"],
            "file_overwrite": bool(values["file_overwrite"]),
            "querystring_auth": bool(values["querystring_auth"]) and not endpoint,
            "querystring_expire": int(seconds),
            "base_url": _join(str(endpoint), values["location"]) if endpoint else None,
            "public_urls": not values["querystring_auth"],
        }


@deconstructible(path="genro_storage.integrations.django.AzureStorage")
class AzureStorage(_DjangoStoragesStorage):
    """``storages.backends.azure_storage.AzureStorage``'s settings, on an ``azure`` mount."""

    table = AZURE_SETTINGS
    label = "AzureStorage"

    def mount_config(self, values: dict[str, Any]) -> dict[str, Any]:
        params = dict(values["object_parameters"] or {})
        if values["cache_control"]:
            params.setdefault("cache_control", values["cache_control"])
        return {
            "type": "azure",
            "container": _required(values, "azure_container", "AZURE_CONTAINER", self.label),
            "account_name": values["account_name"]
            or _connection_field(values["connection_string"], "AccountName"),
            "account_key": values["account_key"],
            "connection_string": values["connection_string"],
            "sas_token": values["sas_token"],
            "object_parameters": params or None,
        }

    def storage_options(self, values: dict[str, Any]) -> dict[str, Any]:
        expire = values["expiration_secs"]
        domain = values["custom_domain"]
        protocol = "https:" if values["azure_ssl"] else "http:"
        container = values["azure_container"]
        return {
            "location": values["location"],
            "file_overwrite": bool(values["overwrite_files"]),
            "querystring_auth": expire is not None and not domain,
            "querystring_expire": int(expire or 3600),
            # django-storages: https://<custom domain>/<container>/<name>
            "base_url": _join(f"{protocol}//{domain}/{container}", values["location"])
            if domain
            else None,
            "public_urls": expire is None,
        }


def _connection_field(connection_string: str | None, field: str) -> str | None:
    for item in str(connection_string or "").split(";"):
        key, _, value = item.partition("=")
        if key.strip().lower() == field.lower():
            return value.strip()
    return None


def _join(base: str, location: str) -> str:
    location = str(location or "").strip("/")
    return f"{base.rstrip('/')}/{location}/" if location else f"{base.rstrip('/')}/"
