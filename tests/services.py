"""Where the real test services are, for the backend tests.

``bash scripts/test.sh`` starts real servers on 127.0.0.1 (moto for S3,
Azurite, fake-gcs-server, sshd, WsgiDAV, smbd, nginx, the GitHub API stub) and
makes the git / libarchive fixtures, then runs pytest with
``GENRO_SERVICES_ENV`` naming the ``services.env`` file that lists them
(``KEY='value'`` lines; see docs/services.md for every key).

A backend test asks for what it needs::

    from tests.services import require_services

    @pytest.mark.services
    def test_s3_roundtrip():
        env = require_services("s3")
        endpoint = env["SVC_S3_ENDPOINT"]

``require_services`` skips the test when the services were not started at all
(a plain ``pytest`` run on a laptop), and FAILS it when they should be there:
under CI, or when ``services.env`` exists but a wanted service is missing from
it or does not answer. A skipped backend test in CI is a failure.
"""

from __future__ import annotations

import functools
import os
import socket
from typing import Optional
from urllib.parse import urlsplit

import pytest

ENV_VAR = "GENRO_SERVICES_ENV"
HINT = "run bash scripts/test.sh"

# gcsfs 2026.x must see this before it is imported, or every bucket access
# against the emulator stalls 60 s on a gRPC probe. Test modules import this
# module before gcsfs; scripts/test.sh exports it too.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

# The keys each service writes into services.env (scripts/services-start.sh).
SERVICE_KEYS: dict[str, tuple[str, ...]] = {
    "s3": ("SVC_S3_ENDPOINT", "SVC_S3_KEY", "SVC_S3_SECRET"),
    "azure": ("SVC_AZURE_CONNECTION_STRING",),
    "gcs": ("SVC_GCS_ENDPOINT",),
    "sftp": (
        "SVC_SFTP_HOST",
        "SVC_SFTP_PORT",
        "SVC_SFTP_USER",
        "SVC_SFTP_PASSWORD",
        "SVC_SFTP_KEY",
        "SVC_SFTP_ROOT",
    ),
    "webdav": ("SVC_WEBDAV_URL", "SVC_WEBDAV_USER", "SVC_WEBDAV_PASSWORD"),
    "smb": ("SVC_SMB_HOST", "SVC_SMB_PORT", "SVC_SMB_USER", "SVC_SMB_PASSWORD", "SVC_SMB_SHARE"),
    "http": ("SVC_HTTP_URL", "SVC_HTTP_ROOT"),
    "git": ("SVC_GIT_REPO",),
    "libarchive": ("SVC_ARCHIVE_7Z", "SVC_ARCHIVE_TARXZ", "SVC_ARCHIVE_SRC"),
    "github": ("SVC_GITHUB_API",),
}

# Fixture-only services: the paths that must exist.
_FIXTURE_PATHS = {
    "git": ("SVC_GIT_REPO",),
    "libarchive": ("SVC_ARCHIVE_7Z", "SVC_ARCHIVE_TARXZ", "SVC_ARCHIVE_SRC"),
}

_reachable: set[tuple[str, int]] = set()


def in_ci() -> bool:
    """True when the CI environment variable is set (to anything but 0/false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def load_services(path: Optional[str] = None) -> dict[str, str]:
    """Read ``services.env``: the file named by ``GENRO_SERVICES_ENV`` (or ``path``).

    Returns ``{}`` when neither is given. Raises ``FileNotFoundError`` when the
    named file does not exist (the services were stopped, or never started).
    """
    path = path or os.environ.get(ENV_VAR)
    if not path:
        return {}
    env: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            env[key.strip()] = value
    return env


def service_address(name: str, env: dict[str, str]) -> Optional[tuple[str, int]]:
    """(host, port) a network service listens on; None for fixture-only services."""

    def from_url(url: str) -> tuple[str, int]:
        parts = urlsplit(url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    if name == "s3":
        return from_url(env["SVC_S3_ENDPOINT"])
    if name == "azure":
        fields = dict(
            item.split("=", 1) for item in env["SVC_AZURE_CONNECTION_STRING"].split(";") if item
        )
        return from_url(fields["BlobEndpoint"])
    if name == "gcs":
        return from_url(env["SVC_GCS_ENDPOINT"])
    if name == "webdav":
        return from_url(env["SVC_WEBDAV_URL"])
    if name == "http":
        return from_url(env["SVC_HTTP_URL"])
    if name == "github":
        return from_url(env["SVC_GITHUB_API"])
    if name in ("sftp", "smb"):
        prefix = f"SVC_{name.upper()}_"
        return env[prefix + "HOST"], int(env[prefix + "PORT"])
    return None


def _problem(name: str, env: dict[str, str]) -> Optional[str]:
    """Why service ``name`` is unusable, or None when it is fine."""
    missing = [k for k in SERVICE_KEYS[name] if k not in env]
    if missing:
        return f"{name}: not in services.env (missing {', '.join(missing)})"
    for key in _FIXTURE_PATHS.get(name, ()):
        if not os.path.exists(env[key]):
            return f"{name}: fixture {env[key]} ({key}) does not exist"
    addr = service_address(name, env)
    if addr is None or addr in _reachable:
        return None
    try:
        with socket.create_connection(addr, timeout=3):
            pass
    except OSError as exc:
        return f"{name}: nothing answers on {addr[0]}:{addr[1]} ({exc})"
    _reachable.add(addr)
    return None


def require_services(*names: str) -> dict[str, str]:
    """Return the services.env dict, making sure the named services are up.

    - ``GENRO_SERVICES_ENV`` unset, not in CI: ``pytest.skip`` (plain pytest run).
    - ``GENRO_SERVICES_ENV`` unset in CI, its file missing, or a wanted service
      absent from it or not answering on its port: ``pytest.fail``.
    - Outside CI only, a service deliberately left out with ``GENRO_SVC_ONLY``
      (not listed in ``SVC_SERVICES``) skips instead of failing.
    """
    unknown = [n for n in names if n not in SERVICE_KEYS]
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; known: {sorted(SERVICE_KEYS)}")
    path = os.environ.get(ENV_VAR)
    if os.environ.get("GENRO_FAST") == "1":
        pytest.skip("fast tier (scripts/test.sh --fast): no servers")
    if not path:
        if in_ci():
            pytest.fail(f"CI is set but {ENV_VAR} is not: the real services are missing; {HINT}")
        pytest.skip(f"real services not started; {HINT}")
    if not os.path.isfile(path):
        pytest.fail(f"{ENV_VAR}={path} does not exist (services not running?); {HINT}")
    env = load_services(path)
    started = env.get("SVC_SERVICES", "").split()
    left_out = [n for n in names if started and n not in started]
    if left_out and not in_ci():
        pytest.skip(f"{', '.join(left_out)} not started (GENRO_SVC_ONLY={' '.join(started)!r})")
    problems = [p for p in (_problem(n, env) for n in names) if p]
    if problems:
        pytest.fail(f"real services unusable ({path}):\n  " + "\n  ".join(problems))
    if "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT" in env:
        os.environ.setdefault(
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", env["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"]
        )
    return env


@functools.cache
def github_stub_filesystem_class(api_base: str) -> type:
    """A ``GithubFileSystem`` subclass that talks to ``api_base`` instead of api.github.com.

    fsspec's GithubFileSystem has no base-URL option: the trees and contents
    URLs are the class attributes ``url`` and ``content_url``, and the
    default-branch lookup (``sha=None``), ``repos()``, ``tags`` and ``branches``
    have ``https://api.github.com`` written inline. This subclass overrides all
    of them, so every call goes to ``api_base`` (``SVC_GITHUB_API``)::

        LocalGithub = github_stub_filesystem_class(env["SVC_GITHUB_API"])
        fs = LocalGithub(org="o", repo="r", sha="main", username="u", token="t")

    The same class is returned for the same ``api_base``.
    """
    import requests
    from fsspec.implementations.github import GithubFileSystem

    api = api_base.rstrip("/")

    def _get(url: str, timeout, auth):
        r = requests.get(url, timeout=timeout, **({"auth": auth} if auth else {}))
        r.raise_for_status()
        return r.json()

    class LocalGithubFileSystem(GithubFileSystem):
        url = api + "/repos/{org}/{repo}/git/trees/{sha}"
        content_url = api + "/repos/{org}/{repo}/contents/{path}?ref={sha}"

        def __init__(self, org, repo, sha=None, username=None, token=None, timeout=None, **kwargs):
            if sha is None:  # the parent would ask api.github.com for the default branch
                auth = (username, token) if username else None
                meta = _get(f"{api}/repos/{org}/{repo}", timeout or self.timeout, auth)
                sha = meta["default_branch"]
            super().__init__(
                org, repo, sha=sha, username=username, token=token, timeout=timeout, **kwargs
            )

        @classmethod
        def repos(cls, org_or_user, is_org=True):
            kind = "orgs" if is_org else "users"
            return [r["name"] for r in _get(f"{api}/{kind}/{org_or_user}/repos", cls.timeout, None)]

        @property
        def tags(self):
            url = f"{api}/repos/{self.org}/{self.repo}/tags"
            return [t["name"] for t in _get(url, self.timeout, self.kw.get("auth"))]

        @property
        def branches(self):
            url = f"{api}/repos/{self.org}/{self.repo}/branches"
            return [t["name"] for t in _get(url, self.timeout, self.kw.get("auth"))]

    LocalGithubFileSystem.__qualname__ = LocalGithubFileSystem.__name__
    return LocalGithubFileSystem
