"""The web console: browse, preview and manage every configured mount from a browser.

``genro-storage console [--config FILE] [--host H] [--port P] [--token T]`` serves
:class:`~genro_storage.console.app.ConsoleApp` (pure ASGI) under uvicorn; the page is
plain HTML, CSS and ES modules shipped in the package (``static/``), over a JSON API
(:mod:`genro_storage.console.api`). Needs the ``console`` extra (uvicorn, anyio).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Auth", "ConsoleApp"]


def __getattr__(name: str) -> Any:
    # lazy: the command-line parser imports console.options without anyio/uvicorn
    if name == "ConsoleApp":
        from .app import ConsoleApp

        return ConsoleApp
    if name == "Auth":
        from .auth import Auth

        return Auth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
