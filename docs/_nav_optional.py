"""MkDocs hook: pages other branches add later may be missing from a checkout.

``mkdocs.yml`` lists every page of the site. Nav entries whose file does not exist (yet)
are dropped instead of failing ``mkdocs build --strict``, and links to such pages become
plain text. Every other warning still fails the strict build.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.nav_optional")

_missing: set[str] = set()
_LINK = re.compile(r"\[([^\]]+)\]\(([^)#\s]+\.md)(#[^)\s]*)?\)")


def _prune(items: list[Any], docs_dir: str) -> list[Any]:
    kept: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            pruned = {}
            for title, value in item.items():
                if isinstance(value, list):
                    children = _prune(value, docs_dir)
                    if children:
                        pruned[title] = children
                elif isinstance(value, str) and _exists(value, docs_dir):
                    pruned[title] = value
            if pruned:
                kept.append(pruned)
        elif isinstance(item, str) and _exists(item, docs_dir):
            kept.append(item)
    return kept


def _exists(path: str, docs_dir: str) -> bool:
    if "://" in path or os.path.exists(os.path.join(docs_dir, path)):
        return True
    _missing.add(path)
    log.info("nav entry %s skipped: the page does not exist in this checkout", path)
    return False


def on_config(config: Any) -> Any:
    """Drop nav entries whose Markdown file is missing."""
    _missing.clear()
    if config.get("nav"):
        config["nav"] = _prune(config["nav"], config["docs_dir"])
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Turn links to missing optional pages into plain text."""
    if not _missing:
        return markdown
    base = os.path.dirname(page.file.src_uri)

    def replace(match: re.Match[str]) -> str:
        target = os.path.normpath(os.path.join(base, match.group(2))).replace(os.sep, "/")
        return match.group(1) if target in _missing else match.group(0)

    return _LINK.sub(replace, markdown)
