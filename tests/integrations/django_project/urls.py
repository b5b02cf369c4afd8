from django.urls import include, path

from .testapp.views import upload

urlpatterns = [
    path("upload/", upload, name="upload"),
    path("files/", include("genro_storage.integrations.django.urls")),
]
