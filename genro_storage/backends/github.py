"""A GitHub repository at a branch, tag or commit, read-only, through fsspec's ``github``.

``api_url`` (an addition to 0.4.2) points the mount at another server speaking GitHub's
REST API (GitHub Enterprise's ``https://HOST/api/v3``, or a local stand-in in tests):
fsspec's ``GithubFileSystem`` has ``https://api.github.com`` written in, so each API base
gets a small subclass that overrides its URLs. ``ref`` is accepted as a synonym of
``sha``; without either, the repository's default branch is asked for (one request).

GitHub's contents API has no per-file dates: ``mtime`` is the time the mount was created
(stable, so ETags do not churn). Listings are cached per mount, as the first listing saw
them: remount (or ``close()``) to see new commits on a branch.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote

from ..capabilities import READ_ONLY
from ..fileio import is_write_mode
from .base import CHUNK_SIZE, EntryInfo, StorageBackend, text_wrapper
from .fsspec import FsspecBackend

__all__ = ["GitHubBackend", "create", "filesystem_class"]

DEFAULT_API = "https://api.github.com"


@functools.cache
def filesystem_class(api_url: str) -> type:
    """A ``GithubFileSystem`` subclass whose every request goes to ``api_url``."""
    import requests
    from fsspec.implementations.github import GithubFileSystem

    api = api_url.rstrip("/")

    def get_json(url: str, timeout: Any, auth: Any) -> Any:
        answer = requests.get(url, timeout=timeout, **({"auth": auth} if auth else {}))
        answer.raise_for_status()
        return answer.json()

    class ApiGithubFileSystem(GithubFileSystem):
        url = api + "/repos/{org}/{repo}/git/trees/{sha}"
        content_url = api + "/repos/{org}/{repo}/contents/{path}?ref={sha}"

        def __init__(
            self,
            org: str,
            repo: str,
            sha: str | None = None,
            username: str | None = None,
            token: str | None = None,
            timeout: Any = None,
            **kwargs: Any,
        ) -> None:
            if sha is None:  # the parent would ask api.github.com for the default branch
                auth = (username, token) if username else None
                meta = get_json(
                    f"{api}/repos/{org}/{repo}", timeout or GithubFileSystem.timeout, auth
                )
                sha = meta["default_branch"]
            super().__init__(org, repo, sha=sha, username=username, token=token, **kwargs)
            if timeout is not None:
                self.timeout = timeout

        @classmethod
        def repos(cls, org_or_user: str, is_org: bool = True) -> list[str]:
            kind = "orgs" if is_org else "users"
            found = get_json(f"{api}/{kind}/{org_or_user}/repos", GithubFileSystem.timeout, None)
            return [r["name"] for r in found]

        @property
        def tags(self) -> list[str]:
            found = get_json(f"{api}/repos/{self.org}/{self.repo}/tags", self.timeout, None)
            return [t["name"] for t in found]

        @property
        def branches(self) -> list[str]:
            url = f"{api}/repos/{self.org}/{self.repo}/branches"
            return [t["name"] for t in get_json(url, self.timeout, None)]

    ApiGithubFileSystem.__qualname__ = ApiGithubFileSystem.__name__
    return ApiGithubFileSystem


class GitHubBackend(FsspecBackend):
    """The tree of one ref of a GitHub repository."""

    default_capabilities = READ_ONLY.evolve(public_urls=True)

    def __init__(self, fs: Any, mount_name: str) -> None:
        super().__init__(fs, "", "github", mount_name)
        self._created = time.time()

    def _entry(self, info: dict[str, Any], path: str | None = None) -> EntryInfo:
        entry = super()._entry(info, path)
        sha = info.get("sha")
        return EntryInfo(entry.path, entry.is_dir, entry.size, self._created, sha)

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        if is_write_mode(mode):
            self.check_write_allowed()
        if self.is_dir(path):
            raise IsADirectoryError(f"Is a directory: {path!r}")
        # the driver puts the path into the contents URL as it is: quote '#', '?', '%'
        raw: IO[bytes] = self.fs.open(quote(path), "rb")
        return text_wrapper(raw, mode)

    # through open(): it quotes the path for the contents API
    read_bytes = StorageBackend.read_bytes
    read_range = StorageBackend.read_range

    def _contents(self, path: str) -> Any:
        """The contents API's answer for ``path`` (a dict for a file, a list for a folder)."""
        import requests

        fs = self.fs
        api = fs.content_url.format(org=fs.org, repo=fs.repo, path=quote(path), sha=fs.root)
        answer = requests.get(api, timeout=fs.timeout, **fs.kw)
        if answer.status_code == 404:
            raise FileNotFoundError(path)
        answer.raise_for_status()
        return answer.json()

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Small files come inline (base64); larger ones stream from ``download_url``."""
        import requests

        found = self._contents(path)
        if not isinstance(found, dict):
            raise IsADirectoryError(f"Is a directory: {path!r}")
        if found.get("content"):
            data = memoryview(base64.b64decode(found["content"]))
            for start in range(0, len(data), chunk_size):
                yield bytes(data[start : start + chunk_size])
            return
        with requests.get(
            found["download_url"], stream=True, timeout=self.fs.timeout, **self.fs.kw
        ) as answer:
            answer.raise_for_status()
            yield from answer.iter_content(chunk_size)

    def url(self, path: str, expires_in: int = 3600, **kwargs: Any) -> str | None:
        """The file's ``download_url`` from the contents API (raw content, public repos)."""
        found = self._contents(path)
        return str(found["download_url"]) if isinstance(found, dict) else None


def create(config: dict[str, Any], mount_name: str) -> GitHubBackend:
    cls = filesystem_class(str(config.get("api_url") or DEFAULT_API))
    options: dict[str, Any] = {"skip_instance_cache": True}
    sha = config.get("sha") or config.get("ref")
    if sha:
        options["sha"] = sha
    if config.get("username") is not None:
        options["username"] = config["username"]
    if config.get("token") is not None:
        options["token"] = config["token"]
    org, repo = str(config["org"]), str(config["repo"])

    def connect() -> Any:
        return cls(org, repo, **options)

    return GitHubBackend(connect, mount_name)
