"""URLs of the serve view; include them under any prefix::

    urlpatterns = [path("files/", include("genro_storage.integrations.django.urls"))]

``reverse("genro_storage:serve", kwargs={"mount": "media", "path": "a/b.pdf"})`` gives
``/files/media/a/b.pdf``; :class:`GenroStorage` ``url()`` reverses it for you.
"""

from django.urls import path

from .views import serve

app_name = "genro_storage"

urlpatterns = [path("<str:mount>/<path:path>", serve, name="serve")]
