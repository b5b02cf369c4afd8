"""The hostile site (:mod:`.hostile_site`) as a Django project, for gunicorn and uvicorn.

Importing this module configures Django (its own settings, this module as the URLconf),
so only the server subprocesses import it: ``...hostile_django:wsgi`` and ``:asgi``.
"""

from __future__ import annotations

import django
from django.conf import settings
from django.urls import include, path

from tests.integrations.apps.hostile_site import INTEGRATION_SERVE, SECRET, _base, mounts

settings.configure(
    DEBUG=False,
    SECRET_KEY="hostile-django",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["genro_storage.integrations.django"],
    MIDDLEWARE=[],
    GENRO_STORAGE=mounts(_base(None)),
    GENRO_STORAGE_SERVE=INTEGRATION_SERVE,
    GENRO_STORAGE_SIGNING_SECRET=SECRET,
)
django.setup()

urlpatterns = [path("files/", include("genro_storage.integrations.django.urls"))]

from django.core.asgi import get_asgi_application  # noqa: E402 - after settings
from django.core.wsgi import get_wsgi_application  # noqa: E402

wsgi = get_wsgi_application()
asgi = get_asgi_application()
