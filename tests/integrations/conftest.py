"""Select the Django test project's settings for the integration tests only.

pytest-django is installed for the whole suite but finds no settings at start-up, so the
rest of the suite runs without Django. When this folder is collected, Django is
configured from ``django_project/settings.py`` (``settings.configure``, not the
``DJANGO_SETTINGS_MODULE`` variable, so no server these tests start inherits it), and
pytest-django's fixtures (``db``, ``settings``, ``client``) work from then on.
"""

from __future__ import annotations

import importlib

import pytest


def pytest_configure(config: pytest.Config) -> None:
    try:
        import django
        from django.conf import settings
    except ImportError:  # the django extra is not installed: its tests skip themselves
        return
    if not settings.configured:
        module = importlib.import_module("tests.integrations.django_project.settings")
        settings.configure(**{k: getattr(module, k) for k in dir(module) if k.isupper()})
    try:
        from pytest_django.plugin import _setup_django  # sets up Django, blocks the DB
    except ImportError:  # pragma: no cover - without pytest-django, plain setup
        django.setup()
    else:
        _setup_django(config)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (``@pytest.mark.anyio``) run on asyncio, as Django and uvicorn do."""
    return "asyncio"
