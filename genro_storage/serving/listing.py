"""Directory index pages, HTML or JSON, as a :class:`~genro_storage.http.response.ResponsePlan`.

Built from one listing with stats (``list_detail``: one request on S3/GCS/Azure), so it
works the same on remote mounts. Names are escaped for HTML and percent-encoded in links;
the HTML page carries a Content-Security-Policy that allows no script at all. Entries
whose name starts with ``.`` are not listed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from urllib.parse import quote

from ..backends.base import EntryInfo, StorageBackend
from ..errors import PathTraversalError
from ..http.options import ServeOptions
from ..http.response import ResponsePlan

__all__ = ["inside_mount", "listing_plan", "wants_json"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em}td{padding:.15em 1em .15em 0}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
)


def wants_json(query: str, accept: str | None) -> bool:
    """JSON when the query says ``format=json`` or Accept asks for JSON and not HTML."""
    if "format=json" in query.split("&"):
        return True
    accept = (accept or "").lower()
    return "application/json" in accept and "text/html" not in accept


def _iso(mtime: float | None) -> str | None:
    if mtime is None:
        return None
    return datetime.fromtimestamp(mtime, timezone.utc).isoformat(timespec="seconds")


def _rows(entries: Iterable[EntryInfo]) -> list[EntryInfo]:
    shown = [e for e in entries if not e.name.startswith(".")]
    return sorted(shown, key=lambda e: (not e.is_dir, e.name))


def listing_plan(
    entries: Iterable[EntryInfo],
    title: str,
    base_href: str,
    *,
    has_parent: bool,
    as_json: bool,
    head: bool,
    options: ServeOptions,
    link_query: Callable[[str], str] | None = None,
) -> ResponsePlan:
    """The index of a directory.

    Args:
        entries: the directory's entries (``EntryInfo.name`` is the entry name).
        title: the URL path shown as the heading.
        base_href: what to put before each (percent-encoded) name in links.
        has_parent: add a link to the parent directory.
        as_json: JSON instead of HTML.
        head: a HEAD request (headers only).
        options: for the configured extra headers.
        link_query: gives the query appended to a file's link from its name (signatures).
    """
    rows = _rows(entries)

    def href(entry: EntryInfo) -> str:
        suffix = "/" if entry.is_dir else (link_query(entry.name) if link_query else "")
        return base_href + quote(entry.name) + suffix

    if as_json:
        payload = {
            "path": title,
            "entries": [
                {
                    "name": e.name,
                    "type": "directory" if e.is_dir else "file",
                    "size": None if e.is_dir else e.size,
                    "modified": _iso(e.mtime),
                    "href": href(e),
                }
                for e in rows
            ],
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        media_type, extra = "application/json", []
    else:
        lines = [
            "<!DOCTYPE html>",
            f"<html><head><meta charset='utf-8'><title>Index of {html.escape(title)}</title>",
            f"<style>{_STYLE}</style></head><body><h1>Index of {html.escape(title)}</h1>",
            "<table>",
        ]
        if has_parent:
            lines.append(f"<tr><td><a href='{html.escape(base_href)}..'>../</a></td></tr>")
        for e in rows:
            label = html.escape(e.name + ("/" if e.is_dir else ""))
            size = "" if e.is_dir else str(e.size)
            lines.append(
                f"<tr><td><a href='{html.escape(href(e))}'>{label}</a></td>"
                f"<td class='n'>{size}</td><td>{html.escape(_iso(e.mtime) or '')}</td></tr>"
            )
        lines.append("</table></body></html>\n")
        body = "\n".join(lines).encode("utf-8")
        media_type, extra = "text/html", [("Content-Security-Policy", _CSP)]
    headers = [
        ("Content-Type", f"{media_type}; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-cache"),
        ("Vary", "Accept"),
        *extra,
        ("X-Content-Type-Options", "nosniff"),
        *options.extra_headers,
    ]
    return ResponsePlan(200, headers, body=b"" if head else body)


def inside_mount(backend: StorageBackend, entries: Iterable[EntryInfo]) -> list[EntryInfo]:
    """``entries`` without a local symlink leading out of the mount: such an entry is not
    even listed (the file server's pages and the console alike)."""
    kept = []
    for entry in entries:
        try:
            backend.os_path(entry.path)
        except PathTraversalError:
            continue
        kept.append(entry)
    return kept
