"""The static files of the test site, written on demand: a 1 KiB stylesheet and a 1 MiB
script (kept out of the repository; the tests and the benchmark write them)."""

from __future__ import annotations

from pathlib import Path

CSS_NAME = "css/site.css"
JS_NAME = "js/app.js"


def write_assets(root: Path, js_size: int = 1024 * 1024) -> Path:
    """Write the site's sources under ``root`` (idempotent); returns ``root``. The script
    is ``js_size`` bytes (1 MiB)."""
    css = "".join(
        f".rule-{i} {{ color: #{i:02x}{i:02x}{i:02x}; margin: {i}px; }}\n" for i in range(24)
    )
    js = "".join(f"function f{i}(a, b) {{ return a * {i} + b - {i % 7}; }}\n" for i in range(21000))
    for name, text in ((CSS_NAME, css[:1024]), (JS_NAME, js[:js_size])):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text() != text:
            target.write_text(text)
    return root
