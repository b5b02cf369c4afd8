import django
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import path


def page(request):  # type: ignore[no-untyped-def]
    return HttpResponse(f"<link rel=stylesheet href='{static('css/site.css')}'>")


def version(request):  # type: ignore[no-untyped-def]
    return HttpResponse(django.get_version(), content_type="text/plain")


urlpatterns = [path("", page), path("version", version)]
