import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integrations.django_static.settings")
application = get_asgi_application()

if os.environ.get("STATIC_SITE_ASGI") == "wrapped":  # kept static answers before Django
    from genro_storage.integrations.django.asgi import StaticFilesASGI

    application = StaticFilesASGI(application)
