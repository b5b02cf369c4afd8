from django.urls import include, path

urlpatterns = [path("files/", include("genro_storage.integrations.django.urls"))]
