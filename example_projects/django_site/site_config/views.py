"""Upload, list, download (through the serve view) and delete files of the default storage."""

from html import escape

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    _, names = default_storage.listdir("")
    mount = default_storage.mount
    if not names:  # an empty listing: an empty folder, or a missing bucket (503)
        try:
            default_storage.exists("")
        except FileNotFoundError as exc:
            context = {"files": [], "mount": mount, "error": str(exc)}
            return render(request, "index.html", context, status=503)
    files = [
        {"name": name, "size": default_storage.size(name), "url": default_storage.url(name)}
        for name in sorted(names)
    ]
    return render(request, "index.html", {"files": files, "mount": mount})


@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    uploaded = request.FILES.get("file")
    if uploaded is None:
        return HttpResponseBadRequest("no file")
    try:
        default_storage.save(default_storage.get_valid_name(uploaded.name), uploaded)
    except FileNotFoundError as exc:  # the mount's bucket/folder is gone: 503, never 500
        mount = escape(str(default_storage.mount))
        return HttpResponse(
            f"<h1>Storage unavailable</h1><p>Mount '{mount}': {escape(str(exc))}</p>\n",
            status=503,
        )
    return redirect("index")


@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "")
    if not name or "/" in name or not name.strip("."):  # ".", "..": not a file
        return HttpResponseBadRequest("bad name")
    try:  # a refused name ("..", ".", NUL...) is the client's error: 400, never 500
        default_storage.delete(name)
    except (SuspiciousFileOperation, ValueError, PermissionError):
        return HttpResponseBadRequest("bad name")
    return redirect("index")
