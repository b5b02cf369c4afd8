from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("upload", views.upload, name="upload"),
    path("delete", views.delete, name="delete"),
    path("files/", include("genro_storage.integrations.django.urls")),
]
