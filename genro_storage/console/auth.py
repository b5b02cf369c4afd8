"""Who may use the console, and the CSRF check on every state-changing request.

Authentication is optional: a bearer token, HTTP basic auth, or both, from the command
line or the environment (:data:`TOKEN_ENV`, :data:`USER_ENV`, :data:`PASSWORD_ENV`). A
browser signs in once with ``/?token=...``: the token is kept in an HttpOnly,
``SameSite=Strict`` cookie. Without any, the console must listen on a loopback address
(:func:`check_bind`).

CSRF: a state-changing request (POST, PUT, PATCH, DELETE) must carry the header
``X-CSRF-Token`` equal to the ``genro_csrf`` cookie (double submit: another site can make
the browser send the cookie, but cannot read it to set the header), and, when the browser
sends ``Origin``, come from the console's own origin. A request authenticated by an
``Authorization: Bearer`` header is exempt: browsers never add that header on their own.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie

__all__ = [
    "AUTH_COOKIE",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "PASSWORD_ENV",
    "TOKEN_ENV",
    "USER_ENV",
    "Auth",
    "check_bind",
    "cookies",
    "is_loopback",
]

TOKEN_ENV = "GENRO_CONSOLE_TOKEN"
USER_ENV = "GENRO_CONSOLE_USER"
PASSWORD_ENV = "GENRO_CONSOLE_PASSWORD"
AUTH_COOKIE = "genro_console_auth"
CSRF_COOKIE = "genro_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cookies(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's cookies (an unparsable header gives none)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@dataclass(frozen=True)
class Auth:
    """The console's credentials (all None: no authentication)."""

    token: str | None = None
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_env(
        cls, token: str | None = None, user: str | None = None, password: str | None = None
    ) -> Auth:
        """Explicit values first, then the environment."""
        token = token or os.environ.get(TOKEN_ENV) or None
        user = user or os.environ.get(USER_ENV) or None
        password = password or os.environ.get(PASSWORD_ENV) or None
        if bool(user) != bool(password):
            raise ValueError("basic auth needs both a user and a password")
        return cls(token, user, password)

    @property
    def enabled(self) -> bool:
        return bool(self.token or self.user)

    @property
    def basic(self) -> bool:
        return bool(self.user)

    def bearer(self, headers: Mapping[str, str]) -> bool:
        """True when the request carries the right ``Authorization: Bearer`` token."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if not self.token or scheme.lower() != "bearer":
            return False
        return _same(value.strip(), self.token)

    def allows(self, headers: Mapping[str, str], query_token: str | None = None) -> bool:
        """True when the request is authenticated (or no authentication is configured)."""
        if not self.enabled:
            return True
        if self.token:
            if self.bearer(headers):
                return True
            found = cookies(headers).get(AUTH_COOKIE) or query_token
            if found and _same(found, self.token):
                return True
        if self.user and self.password:
            scheme, _, value = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    return False
                user, _, password = decoded.partition(":")
                return _same(user, self.user) & _same(password, self.password)
        return False


def csrf_ok(method: str, headers: Mapping[str, str], host: str) -> bool:
    """False for a state-changing request without the double-submit token or from
    another origin (see the module docstring)."""
    if method not in UNSAFE_METHODS:
        return True
    origin = headers.get("origin")
    if origin and origin not in (f"http://{host}", f"https://{host}"):
        return False
    scheme, _, _ = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return True
    sent = headers.get(CSRF_HEADER, "")
    kept = cookies(headers).get(CSRF_COOKIE, "")
    return bool(sent) and bool(kept) and _same(sent, kept)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: Auth) -> None:
    """Refuse to listen beyond this machine without authentication."""
    if not auth.enabled and not is_loopback(host):
        raise ValueError(
            f"refusing to serve the console on {host} without authentication: "
            f"set --token (or ${TOKEN_ENV}) or --user/--password "
            f"(${USER_ENV}/${PASSWORD_ENV}), or bind 127.0.0.1"
        )
