"""The console's JSON API under uvicorn on a real socket, with httpx, on local and S3."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import _http
from tests._procs import ctrl_c, popen_for_ctrl_c
from tests.console._console import Console, running_console
from tests.integrations import servers
from tests.remote import S3Requests

KINDS = ["local", "s3"]


@pytest.fixture(scope="module", params=KINDS)
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    """One console per mount kind for the module (each test works in its own folders)."""
    with running_console(request.param, tmp_path_factory.mktemp("console")) as running:
        running.kind = request.param  # type: ignore[attr-defined]
        yield running


def names(page: dict) -> list[str]:
    return [e["name"] for e in page["entries"]]


def test_session_lists_every_mount_with_type_and_capabilities(console: Console) -> None:
    with console.client() as client:
        data = client.get("/api/session").json()
    mounts = {m["name"]: m for m in data["mounts"]}
    assert list(mounts) == ["main", "scratch", "library"]
    assert mounts["main"]["type"] == console.kind  # type: ignore[attr-defined]
    assert mounts["main"]["writable"] and mounts["main"]["deletable"]
    assert mounts["library"]["writable"] is False
    assert mounts["library"]["capabilities"]["readonly"] is True
    if console.kind == "s3":  # type: ignore[attr-defined]
        assert mounts["main"]["versioning"] and mounts["main"]["presigned"]
        assert mounts["main"]["implicit_dirs"]
    assert data["auth"] is False


def test_upload_streams_the_body_then_download_range_and_304(console: Console) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)  # several S3 parts' worth of chunks
    with console.client() as client:
        put = client.put(
            "/api/upload", params={"mount": "main", "path": "up/big file.bin"}, content=payload
        )
        assert put.status_code == 201, put.text
        assert put.json()["written"] == len(payload)
        assert put.json()["entry"]["size"] == len(payload)
        again = client.put(
            "/api/upload", params={"mount": "main", "path": "up/big file.bin"}, content=b"x"
        )
        assert again.status_code == 409 and "already exists" in again.json()["error"]
        url = "/files/main/up/big%20file.bin"
        got = client.get(url)
        assert hashlib.sha256(got.content).digest() == hashlib.sha256(payload).digest()
        assert client.get(url, headers={"If-None-Match": got.headers["etag"]}).status_code == 304
        part = client.get(url, headers={"Range": "bytes=100-199"})
        assert (part.status_code, part.content) == (206, payload[100:200])
        attachment = client.get(url, params={"download": "1"})
        assert attachment.headers["content-disposition"].startswith("attachment")
        assert got.headers["content-security-policy"] == "sandbox"  # no script from uploads
    assert console.storage.node("main:up/big file.bin").read_bytes() == payload


def test_form_upload_streams_each_file_part_into_the_folder(console: Console) -> None:
    big = os.urandom(2 * 1024 * 1024 + 3)
    files = [("file", ("a.txt", b"alpha\n", "text/plain")), ("file", ("b.bin", big, "x/y"))]
    with console.client() as client:
        posted = client.post(
            "/api/upload", params={"mount": "main", "path": "form"}, files=files,
            data={"note": "a plain field is ignored"},
        )  # fmt: skip
        assert posted.status_code == 201, posted.text
        saved = {f["name"]: f for f in posted.json()["files"]}
        assert saved["b.bin"]["written"] == saved["b.bin"]["size"] == len(big)
        again = client.post("/api/upload", params={"mount": "main", "path": "form"}, files=files)
        assert again.status_code == 409
        replaced = client.post(
            "/api/upload", params={"mount": "main", "path": "form", "overwrite": "1"},
            files=[("file", ("a.txt", b"beta\n", "text/plain"))],
        )  # fmt: skip
        assert replaced.status_code == 201
        sneaky = [("file", ("../escape.txt", b"x", "text/plain"))]
        escaped = client.post("/api/upload", params={"mount": "main", "path": "form"}, files=sneaky)
        assert escaped.status_code == 201  # only the base name is kept: form/escape.txt
        readonly = client.post("/api/upload", params={"mount": "library"}, files=files)
        assert readonly.status_code == 403
        raw = client.post("/api/upload", params={"mount": "main"}, content=b"not a form")
        assert raw.status_code == 415
    assert console.storage.node("main:form/a.txt").read_bytes() == b"beta\n"
    assert console.storage.node("main:form/b.bin").read_bytes() == big
    assert console.storage.node("main:form/escape.txt").read_bytes() == b"x"
    assert not console.storage.node("main:escape.txt").exists


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_an_upload_cut_short_publishes_nothing(console: Console, method: str) -> None:
    host, port = console.url.removeprefix("http://").split(":")
    with console.client() as client:
        csrf = client.headers["X-CSRF-Token"]
    name = f"cut-{method.lower()}.bin"
    if method == "PUT":
        target, kind = f"/api/upload?mount=main&path={name}", "application/octet-stream"
        head = b""
    else:
        target, kind = "/api/upload?mount=main&path=", "multipart/form-data; boundary=XyZ"
        head = (
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="'
            + name.encode() + b'"\r\nContent-Type: x/y\r\n\r\n'
        )  # fmt: skip
    request = (
        f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: {kind}\r\nContent-Length: {50 * 1024 * 1024}\r\n"
        f"X-CSRF-Token: {csrf}\r\nCookie: genro_csrf={csrf}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request + head + os.urandom(6 * 1024 * 1024))
    time.sleep(1.0)  # the server notices the disconnect and discards the part
    assert not console.storage.node(f"main:{name}").exists
    leftovers = [e.name for e in console.storage.get_backend("main").list_detail("")]
    assert not [n for n in leftovers if "cut-" in n], leftovers


def test_list_pages_with_a_cursor_one_s3_request_per_page(console: Console) -> None:
    for i in range(45):
        console.storage.node(f"main:many/f{i:03d}.txt").write_text(str(i))
    console.storage.node("main:many/sub/inner.txt").write_text("x")
    seen: list[str] = []
    with console.client() as client:
        cursor = None
        pages = 0

        def page(cursor: str | None) -> dict:
            params = {"mount": "main", "path": "many", "limit": "20", "cursor": cursor or ""}
            return client.get("/api/list", params=params).json()

        if console.kind == "s3":  # type: ignore[attr-defined]
            endpoint, bucket = console.env["SVC_S3_ENDPOINT"], console.mounts[0]["bucket"]
            with S3Requests(endpoint, bucket) as recorded:
                first = page(None)
            lists = [r for r in recorded.requests if "list-type=2" in r["url"]]
            assert len(lists) == 1, recorded.requests
        else:
            first = page(None)
        data = first
        while True:
            pages += 1
            seen += names(data)
            cursor = data["next_cursor"]
            if not cursor:
                break
            data = page(cursor)
    assert pages == 3
    assert seen == sorted(seen) and len(seen) == 46 and "sub" in seen


def test_a_symlink_leading_out_of_the_mount_is_not_listed(console: Console) -> None:
    if console.kind != "local":  # type: ignore[attr-defined]
        pytest.skip("symlinks are a local-disk matter")
    root = Path(console.mounts[0]["path"])
    outside = root.parent / "outside-the-mount.txt"
    outside.write_text("secret")
    (root / "links").mkdir()
    (root / "links" / "kept.txt").write_text("x")
    (root / "links" / "inside.txt").symlink_to(root / "links" / "kept.txt")
    (root / "links" / "escape.txt").symlink_to(outside)
    with console.client() as client:
        page = client.get("/api/list", params={"mount": "main", "path": "links"}).json()
    assert names(page) == ["inside.txt", "kept.txt"]


def test_mkdir_move_delete_and_refusals(console: Console) -> None:
    with console.client() as client:
        assert client.post("/api/mkdir", json={"mount": "main", "path": "fresh"}).status_code == 200
        moved = client.post(
            "/api/move",
            json={"mount": "main", "path": "notes.txt", "to_mount": "main", "to_path": "kept.txt"},
        )
        assert moved.status_code == 200, moved.text
        assert not console.storage.node("main:notes.txt").exists
        assert console.storage.node("main:kept.txt").read_text().startswith("first line")
        move = {"mount": "main", "path": "kept.txt", "to_mount": "main", "to_path": "code/app.py"}
        clash = client.post("/api/move", json=move)
        assert clash.status_code == 409
        gone = client.post("/api/delete", json={"mount": "main", "path": "kept.txt"})
        assert gone.status_code == 200 and not console.storage.node("main:kept.txt").exists
        missing = client.post("/api/delete", json={"mount": "main", "path": "kept.txt"})
        assert missing.status_code == 404
        # read-only mount: refused by the server, whatever the page shows
        for endpoint, body in [
            ("mkdir", {"mount": "library", "path": "x"}),
            ("delete", {"mount": "library", "path": "readme.md"}),
            (
                "move",
                {"mount": "library", "path": "readme.md", "to_mount": "library", "to_path": "x"},
            ),
        ]:
            refused = client.post(f"/api/{endpoint}", json=body)
            assert refused.status_code == 403 and "read-only" in refused.json()["error"]
        put = client.put("/api/upload", params={"mount": "library", "path": "x.txt"}, content=b"x")
        assert put.status_code == 403
        assert console.storage.node("main:docs/readme.md").exists
        # hostile paths go through the library's containment
        for path in ["../etc/passwd", "a/../../b", "a\\..\\b", "c:/windows", "x\x00y"]:
            bad = client.get("/api/list", params={"mount": "main", "path": path})
            assert bad.status_code == 400 and "refused" in bad.json()["error"], path
        assert client.get("/files/main/%2e%2e/x").status_code in (400, 404)
        assert client.get("/api/list", params={"mount": "nope"}).status_code == 404


def test_csrf_is_required_on_every_state_change(console: Console) -> None:
    with _http.client(base_url=console.url, timeout=10) as bare:
        bare.get("/")  # has the cookie, not the header
        for method, url in [
            ("POST", "/api/mkdir"),
            ("POST", "/api/delete"),
            ("POST", "/api/move"),
            ("POST", "/api/copy"),
            ("POST", "/api/share"),
            ("POST", "/api/restore"),
            ("PUT", "/api/upload?mount=main&path=x.txt"),
            ("POST", "/api/upload?mount=main&path=x"),
        ]:
            refused = bare.request(method, url, content=b"{}")
            assert refused.status_code == 403 and "CSRF" in refused.json()["error"], url
    with console.client() as client:
        cross = client.post(
            "/api/mkdir",
            json={"mount": "main", "path": "evil"},
            headers={"Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
        wrong = client.post(
            "/api/mkdir", json={"mount": "main", "path": "evil"}, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403
    assert not console.storage.node("main:evil").exists


def test_copy_and_sync_jobs_report_progress_over_sse(console: Console) -> None:
    with console.client() as client:
        job = client.post(
            "/api/copy",
            json={"mount": "main", "path": "media", "to_mount": "scratch", "to_path": "copy"},
        ).json()
        events = []
        with client.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
            assert stream.headers["content-type"] == "text/event-stream"
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
        final = events[-1]
        assert final["state"] == "done", final
        assert final["files_done"] == final["files_total"] == 3
        total = sum(console.storage.node(f"main:media/{n}").size for n in
                    ("gradient.png", "hello.pdf", "chime.wav"))  # fmt: skip
        assert final["bytes_done"] == final["bytes_total"] == total
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "done"
        copied = client.get("/files/scratch/copy/hello.pdf")  # memory: the console's process
        assert copied.content == console.storage.node("main:media/hello.pdf").read_bytes()
        mirror = {"mount": "main", "path": "code", "to_mount": "scratch", "to_path": "mirror"}
        sync = client.post("/api/copy", json={**mirror, "mode": "sync"}).json()
        for _ in range(200):  # polling, the other way to follow a job
            state = client.get(f"/api/jobs/{sync['id']}").json()
            if state["state"] != "running":
                break
            time.sleep(0.05)
        assert state["state"] == "done" and "copied 1" in state["summary"]
        refused = client.post(
            "/api/copy",
            json={"mount": "main", "path": "code", "to_mount": "library", "to_path": "x"},
        )
        assert refused.status_code == 403
        for path, to_path in [("code", "code/again"), ("", "copies/all")]:
            loop = {"mount": "main", "path": path, "to_mount": "main", "to_path": to_path}
            assert client.post("/api/copy", json=loop).status_code == 400, loop


def test_share_links_signed_and_presigned(console: Console) -> None:
    with console.client() as client:
        links = client.post(
            "/api/share", json={"mount": "main", "path": "media/hello.pdf", "expires_in": 600}
        ).json()
        assert (
            client.post(
                "/api/share", json={"mount": "main", "path": "media/hello.pdf", "expires_in": 1}
            ).status_code
            == 400
        )
    pdf = console.storage.node("main:media/hello.pdf").read_bytes()
    with _http.client(base_url=console.url, timeout=10) as stranger:  # no cookie, no token
        shared = stranger.get(links["signed"])
        assert (shared.status_code, shared.content) == (200, pdf)
        tampered = links["signed"].replace("hello.pdf", "gradient.png")
        assert stranger.get(tampered).status_code == 403
    if console.kind == "s3":  # type: ignore[attr-defined]
        assert links["presigned"].startswith(console.env["SVC_S3_ENDPOINT"])
        assert _http.get(links["presigned"], timeout=10).content == pdf
    else:
        assert links["presigned"] is None


def test_versions_list_download_restore_on_s3(tmp_path: Path) -> None:
    with running_console("s3", tmp_path) as console, console.client() as client:
        for text in (b"one", b"two", b"three"):
            put = client.put(
                "/api/upload",
                params={"mount": "main", "path": "v.txt", "overwrite": "1"},
                content=text,
            )
            assert put.status_code == 201
        versions = client.get("/api/versions", params={"mount": "main", "path": "v.txt"}).json()
        found = versions["versions"]
        assert [v["size"] for v in found] == [3, 3, 5] and found[-1]["is_latest"]
        first = found[0]["version_id"]
        old = client.get("/files/main/v.txt", params={"version": first})
        assert old.content == b"one"
        assert old.headers["content-disposition"].startswith("attachment")
        done = client.post(
            "/api/restore", json={"mount": "main", "path": "v.txt", "version_id": first}
        )
        assert done.status_code == 200, done.text
        assert client.get("/files/main/v.txt").content == b"one"
        after = client.get("/api/versions", params={"mount": "main", "path": "v.txt"}).json()
        assert len(after["versions"]) == 4
        bogus = client.post(
            "/api/restore", json={"mount": "main", "path": "v.txt", "version_id": "nope"}
        )
        assert bogus.status_code == 404


def test_token_auth_bearer_cookie_and_basic(tmp_path: Path) -> None:
    with running_console("local", tmp_path, "--token", "s3cret-token") as console:
        with _http.client(base_url=console.url, timeout=10) as anon:
            assert anon.get("/api/session").status_code == 401
            assert anon.get("/files/main/notes.txt").status_code == 401
            assert anon.get("/?token=wrong").status_code == 401
            signin = anon.get("/?token=s3cret-token")
            assert signin.status_code == 303 and "HttpOnly" in signin.headers["set-cookie"]
            assert anon.get("/api/session").status_code == 200  # the cookie now
        bearer = {"Authorization": "Bearer s3cret-token"}
        with _http.client(base_url=console.url, timeout=10, headers=bearer) as api:
            made = api.post("/api/mkdir", json={"mount": "main", "path": "via-token"})
            assert made.status_code == 200  # a bearer request needs no CSRF header
    basic = ("--user", "ada", "--password", "lovelace")
    (tmp_path / "b").mkdir()
    with running_console("local", tmp_path / "b", *basic) as console:
        assert _http.get(console.url + "/api/session").status_code == 401
        assert "Basic" in _http.get(console.url + "/").headers["www-authenticate"]
        ok = _http.get(console.url + "/api/session", auth=("ada", "lovelace"))
        assert ok.status_code == 200
        assert _http.get(console.url + "/api/session", auth=("ada", "x")).status_code == 401


@pytest.mark.parametrize("module", ["genro_storage.console", "genro_storage"])
def test_refuses_a_public_address_without_auth(module: str) -> None:
    command = ["console"] if module == "genro_storage" else []
    run = subprocess.run(
        [sys.executable, "-m", module, *command, "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=servers.clean_env(),
    )
    assert run.returncode != 0
    assert "refusing to serve the console on 0.0.0.0 without authentication" in run.stderr


def test_the_console_listens_before_it_prints_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client that connects as soon as the URL is printed is queued, not refused (the
    README command's test once met a refusal on a loaded machine: the socket was bound,
    and uvicorn, still starting, had not called listen())."""
    import uvicorn

    from genro_storage.console.__main__ import main

    seen: dict[str, object] = {}

    def uvicorn_not_started_yet(self: uvicorn.Server, sockets: list[socket.socket]) -> None:
        (sock,) = sockets
        seen["printed"] = "genro-storage console: http://127.0.0.1:" in capsys.readouterr().out
        with socket.create_connection(sock.getsockname()[:2], timeout=5):
            seen["connected"] = True

    monkeypatch.setattr(uvicorn.Server, "run", uvicorn_not_started_yet)
    assert main(["--port", "0", "--root", str(tmp_path)]) == 0
    assert seen == {"printed": True, "connected": True}


def test_readme_first_command_starts_the_console(tmp_path: Path) -> None:
    """``bash scripts/demo.sh`` prints the console's URL; Ctrl-C stops it cleanly."""
    env = {**servers.clean_env(), "PYTHONUNBUFFERED": "1"}
    proc = popen_for_ctrl_c(
        ["bash", "scripts/demo.sh", "--port", "0", "--root", str(tmp_path)],
        cwd=servers.REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"scripts/demo.sh exited early with {proc.wait(5)}")
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            url = found.group(1) if found else None
        assert url, "the console never printed its URL"
        session = _http.get(url + "/api/session", timeout=10).json()
        assert [m["name"] for m in session["mounts"]] == ["files", "scratch", "samples"]
        assert _http.get(url + "/files/files/hello.txt", timeout=10).text.startswith("Hello")
    finally:
        try:
            assert ctrl_c(proc, 15, "the console") == 0
        finally:
            assert proc.stdout is not None
            proc.stdout.close()
