"""An upload view like a project would write: a ModelForm saving to the model."""

from django import forms
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse

from .models import Document


class DocumentForm(forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file", "image"]


def upload(request: HttpRequest) -> JsonResponse | HttpResponseBadRequest:
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_json())
    doc = form.save()
    return JsonResponse(
        {
            "id": doc.pk,
            "file": doc.file.name,
            "file_url": doc.file.url,
            "image": doc.image.name or None,
            "image_url": doc.image.url if doc.image else None,
            "width": doc.width,
            "height": doc.height,
        }
    )
