"""``GenroStaticStorage``: Django's manifest static files, precompressed, on any mount.

For ``STORAGES["staticfiles"]``::

    STORAGES = {
        "staticfiles": {
            "BACKEND": "genro_storage.integrations.django.GenroStaticStorage",
            "OPTIONS": {"mount": "static"},
        },
    }

``collectstatic`` then works as with Django's ``ManifestStaticFilesStorage`` (hashed names,
``staticfiles.json``, ``{% static %}`` resolving to the hashed name) and, in the same run,
writes a ``.gz`` (and, with the ``brotli`` package, a ``.br``) sibling of every file that
compresses by at least 5%: what :class:`~.middleware.StaticFilesMiddleware` (or nginx's
``gzip_static``, or a CDN in front of the bucket) sends to clients that accept it.

Files already compressed (images, fonts, archives, media) are left alone. A hashed name's
siblings are written once (its content cannot change); an unhashed name's siblings only
when their bytes differ from what is stored (``skip_if_unchanged``), so a second
``collectstatic`` uploads nothing new to an object store.

Options: those of :class:`GenroStorage` (``file_overwrite`` defaults to True here, as
``collectstatic`` replaces files; ``base_url`` to ``STATIC_URL``), plus ``compress``
(default True), ``brotli`` (default: when the package is installed) and
``manifest_strict`` (Django's, default True).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.utils.deconstruct import deconstructible

from .storage import GenroStorage

__all__ = ["COMPRESSED_EXTENSIONS", "GenroStaticStorage"]

#: already compressed: compressing again would only cost time (whitenoise's list)
COMPRESSED_EXTENSIONS = frozenset(
    (
        *("jpg", "jpeg", "png", "gif", "webp", "avif", "zip", "gz", "tgz", "bz2", "tbz"),
        *("xz", "br", "zst", "swf", "flv", "woff", "woff2", "3gp", "3gpp", "asf", "avi"),
        *("m4v", "mov", "mp4", "mpeg", "mpg", "webm", "wmv", "mp3", "ogg", "pdf"),
    )
)
#: a name ``collectstatic`` hashed: ``app.0123456789ab.css``
HASHED = re.compile(r"\.[0-9a-f]{12}(?=\.[^./]+$|$)")
_STATIC_OPTIONS = {"compress": True, "brotli": None, "manifest_strict": True}


def _brotli() -> Any:
    try:
        import brotli
    except ImportError:
        return None
    return brotli


@deconstructible(path="genro_storage.integrations.django.GenroStaticStorage")
class GenroStaticStorage(ManifestFilesMixin, GenroStorage):
    """Manifest (hashed) static files with ``.gz``/``.br`` siblings (see the module doc)."""

    def __init__(self, **options: Any) -> None:
        static = {k: options.pop(k) for k in list(options) if k in _STATIC_OPTIONS}
        options.setdefault("file_overwrite", True)
        if "base_url" not in options and getattr(settings, "STATIC_URL", None):
            options["base_url"] = settings.STATIC_URL
        self._static = {**_STATIC_OPTIONS, **static}
        self.manifest_strict = bool(self._static["manifest_strict"])
        super().__init__(**options)

    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[Any]:
        """Django's hashing, then the compressed siblings of every file written."""
        written: set[str] = set()
        for original, processed, done in super().post_process(paths, dry_run, **options):
            if isinstance(processed, str):
                written.add(processed)
            yield original, processed, done
        if dry_run or not self._static["compress"]:
            return
        written.update(paths)
        names = sorted(n for n in written if self.should_compress(n))
        with ThreadPoolExecutor(max_workers=8) as pool:
            for name, made in zip(names, pool.map(self.compress, names)):
                for sibling in made:
                    yield name, sibling, True

    # ------------------------------------------------------------------ compression
    def should_compress(self, name: str) -> bool:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        return extension not in COMPRESSED_EXTENSIONS

    def compress(self, name: str) -> list[str]:
        """Write ``name.gz`` (and ``name.br``) when they save 5%; returns the names written."""
        node = self.node(name)
        hashed = bool(HASHED.search(name))
        encoders: list[tuple[str, Any]] = [
            ("gz", lambda data: gzip.compress(data, compresslevel=9, mtime=0))
        ]
        module = _brotli() if self._static["brotli"] in (None, True) else None
        if module is not None:
            encoders.append(("br", lambda data: module.compress(data, quality=11)))
        siblings = [(ext, encode, self.node(f"{name}.{ext}")) for ext, encode in encoders]
        if hashed and all(sibling.exists for _, _, sibling in siblings):
            return []  # content-addressed: already compressed in an earlier run
        data = node.read_bytes()
        made = []
        for ext, encode, sibling in siblings:
            packed = encode(data)
            if len(packed) >= len(data) * 0.95:
                continue
            sibling.write_bytes(packed, skip_if_unchanged=True)
            made.append(f"{name}.{ext}")
        return made
