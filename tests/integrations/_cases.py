"""The HTTP behaviour both apps must show, written once, run through every transport.

``test_wsgi_app.py`` and ``test_asgi_app.py`` subclass these classes and provide the
``client`` fixture (in process and over a real socket); ``prefix`` (conftest) runs the
:class:`FileCases` on the local mount and on the S3 mount.
"""

from __future__ import annotations

import time
from email import message_from_bytes
from email.utils import formatdate
from typing import Any
from urllib.parse import quote

import pytest

from genro_storage.http.signing import sign_path
from tests import _http
from tests.integrations._site import CSS, FILES, SECRET
from tests.integrations.conftest import Client

HELLO = FILES["hello.txt"]
DATA = FILES["data.bin"]
UNICODE = "unicode name \u00e9\u6f22.txt"
PAST = formatdate(0, usegmt=True)
FUTURE = formatdate(time.time() + 86400 * 365, usegmt=True)


def parts_of(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    message = message_from_bytes(raw)
    assert message.is_multipart()
    return [(p["Content-Range"], p.get_payload(decode=True)) for p in message.get_payload()]


class FileCases:
    """Every status and header of the serve core, on one mount (``prefix``)."""

    def test_get_200_with_every_header(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/hello.txt")
        assert (r.status, r.body) == (200, HELLO)
        h = r.headers
        assert h["content-type"] == "text/plain; charset=utf-8"
        assert h["content-length"] == str(len(HELLO))
        assert h["etag"].startswith('"') and h["etag"].endswith('"')
        assert h["last-modified"].endswith(" GMT")
        assert h["accept-ranges"] == "bytes"
        assert h["x-content-type-options"] == "nosniff"
        assert h["cache-control"] == "max-age=60"
        assert h["access-control-allow-origin"] == "*"
        assert "content-disposition" not in h

    def test_etag_is_stable_between_requests(self, client: Client, prefix: str) -> None:
        first = client.get(f"{prefix}/data.bin").headers["etag"]
        assert client.get(f"{prefix}/data.bin").headers["etag"] == first

    def test_head_has_the_get_headers_and_no_body(self, client: Client, prefix: str) -> None:
        r = client.request("HEAD", f"{prefix}/data.bin")
        assert (r.status, r.body) == (200, b"")
        assert r.headers["content-length"] == str(len(DATA))
        assert r.headers["etag"] == client.get(f"{prefix}/data.bin").headers["etag"]

    def test_empty_file_is_200_with_zero_length(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/empty.txt")
        assert (r.status, r.body, r.headers["content-length"]) == (200, b"", "0")

    def test_large_file_streams_intact(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/big.bin")
        assert r.status == 200 and r.body == FILES["big.bin"]

    @pytest.mark.parametrize("form", ["strong", "weak", "list", "star"])
    def test_304_with_if_none_match(self, client: Client, prefix: str, form: str) -> None:
        etag = client.get(f"{prefix}/hello.txt").headers["etag"]
        value = {"strong": etag, "weak": f"W/{etag}", "list": f'"nope", {etag}', "star": "*"}
        r = client.get(f"{prefix}/hello.txt", if_none_match=value[form])
        assert (r.status, r.body) == (304, b"")
        assert r.headers["etag"] == etag
        assert "content-type" not in r.headers

    def test_304_keeps_cors_headers_for_a_cors_request(self, client: Client, prefix: str) -> None:
        """A 304 repeats the route's own headers (CORS) only for a request with Origin;
        ETag and Cache-Control always (RFC 9110 §15.4.5). Each answer is asked twice:
        the second comes from the kept answers (serving/hot.py), keyed on Origin too."""
        etag = client.get(f"{prefix}/hello.txt").headers["etag"]
        for origin in (None, "https://app.example", None, "null", None):
            for _ in range(2):
                extra = {} if origin is None else {"origin": origin}
                r = client.get(f"{prefix}/hello.txt", if_none_match=etag, **extra)
                assert r.status == 304
                assert r.headers["cache-control"] == "max-age=60"
                assert r.headers["etag"] == etag
                cors = r.headers.get("access-control-allow-origin")
                assert cors == (None if origin is None else "*"), (origin, r.headers)
        for origin in (None, "https://app.example"):  # a 200 has them either way
            extra = {} if origin is None else {"origin": origin}
            r = client.get(f"{prefix}/hello.txt", **extra)
            assert r.status == 200 and r.headers["access-control-allow-origin"] == "*"

    def test_304_with_if_modified_since(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/hello.txt", if_modified_since=FUTURE)
        assert r.status == 304
        assert client.get(f"{prefix}/hello.txt", if_modified_since=PAST).status == 200

    def test_200_when_if_none_match_differs(self, client: Client, prefix: str) -> None:
        assert client.get(f"{prefix}/hello.txt", if_none_match='"other"').status == 200

    def test_412_when_if_match_fails(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/hello.txt", if_match='"other"')
        assert r.status == 412
        assert r.headers["access-control-allow-origin"] == "*"
        etag = client.get(f"{prefix}/hello.txt").headers["etag"]
        assert client.get(f"{prefix}/hello.txt", if_match=etag).status == 200

    def test_412_when_modified_since_if_unmodified_since(self, client: Client, prefix: str):
        assert client.get(f"{prefix}/hello.txt", if_unmodified_since=PAST).status == 412

    @pytest.mark.parametrize(
        ("header", "first", "last"),
        [("bytes=0-0", 0, 0), ("bytes=-1", len(DATA) - 1, len(DATA) - 1), ("bytes=10-19", 10, 19),
         ("bytes=99990-", 99990, len(DATA) - 1), ("bytes=99990-200000", 99990, len(DATA) - 1)],
        ids=["first_byte", "last_byte", "middle", "open_end", "past_end"],
    )  # fmt: skip
    def test_206_single_range(
        self, client: Client, prefix: str, header: str, first: int, last: int
    ) -> None:
        r = client.get(f"{prefix}/data.bin", range=header)
        assert r.status == 206
        assert r.body == DATA[first : last + 1]
        assert r.headers["content-range"] == f"bytes {first}-{last}/{len(DATA)}"
        assert r.headers["content-length"] == str(last + 1 - first)

    def test_206_multiple_ranges_are_multipart_byteranges(
        self, client: Client, prefix: str
    ) -> None:
        r = client.get(f"{prefix}/data.bin", range="bytes=0-0,-1,5000-5099")
        assert r.status == 206
        content_type = r.headers["content-type"]
        assert content_type.startswith("multipart/byteranges; boundary=")
        assert int(r.headers["content-length"]) == len(r.body)
        size = len(DATA)
        assert (
            parts_of(content_type, r.body)
            == [  # in the order asked (§15.3.7.2)
                (f"bytes 0-0/{size}", DATA[0:1]),
                (f"bytes {size - 1}-{size - 1}/{size}", DATA[-1:]),
                (f"bytes 5000-5099/{size}", DATA[5000:5100]),
            ]
        )

    def test_416_when_no_range_fits(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/data.bin", range="bytes=200000-")
        assert r.status == 416
        assert r.headers["content-range"] == f"bytes */{len(DATA)}"
        assert r.headers["access-control-allow-origin"] == "*"

    def test_malformed_range_is_ignored(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/hello.txt", range="bytes=oops")
        assert (r.status, r.body) == (200, HELLO)

    def test_if_range_with_current_etag_gives_206(self, client: Client, prefix: str) -> None:
        etag = client.get(f"{prefix}/data.bin").headers["etag"]
        r = client.get(f"{prefix}/data.bin", range="bytes=0-9", if_range=etag)
        assert (r.status, r.body) == (206, DATA[:10])

    def test_if_range_with_old_etag_gives_whole_file(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/data.bin", range="bytes=0-9", if_range='"stale"')
        assert (r.status, r.body) == (200, DATA)

    def test_405_for_other_methods(self, client: Client, prefix: str) -> None:
        r = client.request("POST", f"{prefix}/hello.txt")
        assert r.status == 405
        assert r.headers["allow"] == "GET, HEAD"

    def test_404_for_a_missing_file(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/missing.txt")
        assert (r.status, r.body) == (404, b"Not Found")
        assert r.headers["access-control-allow-origin"] == "*"

    def test_unicode_file_name_in_the_url(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/{quote(UNICODE)}")
        assert (r.status, r.body) == (200, FILES[UNICODE])

    def test_precompressed_brotli_when_accepted(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/style.css", accept_encoding="br, gzip")
        assert (r.status, r.body) == (200, FILES["style.css.br"])
        assert r.headers["content-encoding"] == "br"
        assert r.headers["vary"] == "Accept-Encoding"
        assert r.headers["content-type"] == "text/css; charset=utf-8"

    def test_precompressed_gzip_when_accepted(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/style.css", accept_encoding="gzip")
        assert (r.status, r.body) == (200, FILES["style.css.gz"])
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["content-length"] == str(len(FILES["style.css.gz"]))

    def test_identity_still_varies_on_accept_encoding(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/style.css", accept_encoding="identity")
        assert (r.status, r.body) == (200, CSS)
        assert r.headers["vary"] == "Accept-Encoding"
        assert "content-encoding" not in r.headers

    def test_variants_have_their_own_etag(self, client: Client, prefix: str) -> None:
        plain = client.get(f"{prefix}/style.css").headers["etag"]
        gz = client.get(f"{prefix}/style.css", accept_encoding="gzip").headers["etag"]
        assert plain != gz

    def test_directory_index_html(self, client: Client, prefix: str) -> None:
        r = client.get(f"{prefix}/dir/")
        assert r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
        assert b"href='nested.txt'" in r.body and b"href='sub/'" in r.body
        assert "default-src 'none'" in r.headers["content-security-policy"]

    def test_directory_index_json(self, client: Client, prefix: str) -> None:
        import json

        r = client.get(f"{prefix}/?format=json")
        entries = {e["name"]: e for e in json.loads(r.body)["entries"]}
        assert entries["hello.txt"]["size"] == len(HELLO)
        assert entries["dir"]["type"] == "directory"
        assert ".hidden" not in entries
        r = client.get(f"{prefix}/dir", accept="application/json")
        assert [e["href"] for e in json.loads(r.body)["entries"]] == ["dir/sub/", "dir/nested.txt"]


class LocalCases:
    """Route options and delivery policies, on the local mount."""

    def test_directory_is_404_when_index_is_off(self, client: Client) -> None:
        assert client.get("/plain/dir/").status == 404

    def test_immutable_cache_control(self, client: Client) -> None:
        r = client.get("/assets/hello.txt")
        assert r.headers["cache-control"] == "max-age=31536000, immutable"

    def test_no_cache_without_max_age(self, client: Client) -> None:
        assert client.get("/plain/hello.txt").headers["cache-control"] == "no-cache"

    def test_content_disposition_with_a_unicode_name(self, client: Client) -> None:
        r = client.get(f"/dl/{quote(UNICODE)}")
        value = r.headers["content-disposition"]
        assert value.startswith('attachment; filename="unicode name ')
        assert "filename*=UTF-8''unicode%20name%20%C3%A9%E6%BC%A2.txt" in value

    def test_symlink_inside_the_mount_is_served(self, client: Client) -> None:
        assert client.get("/plain/alias.txt").body == HELLO

    @pytest.mark.parametrize("path", ["/plain/escape/secret.txt", "/plain/escape-file.txt"])
    def test_symlink_leaving_the_mount_is_404(self, client: Client, path: str) -> None:
        r = client.get(path)
        assert r.status == 404 and b"SECRET" not in r.body

    def test_precompressed_symlink_leaving_the_mount_is_ignored(self, client: Client) -> None:
        r = client.get("/plain/leak.css", accept_encoding="gzip")
        assert (r.status, r.body) == (200, CSS) and "content-encoding" not in r.headers

    def test_listing_leaves_out_symlinks_leading_out(self, client: Client) -> None:
        import json

        names = {e["name"] for e in json.loads(client.get("/local/?format=json").body)["entries"]}
        assert {"alias.txt", "leak.css"} <= names
        assert not names & {"escape", "escape-file.txt", "leak.css.gz", ".hidden"}

    def test_unknown_prefix_is_404(self, client: Client) -> None:
        assert client.get("/nowhere/hello.txt").status == 404

    def test_root_lists_the_routes(self, client: Client) -> None:
        r = client.get("/")
        assert r.status == 200 and b"href='local/'" in r.body

    def test_private_without_signature_is_403(self, client: Client) -> None:
        r = client.get("/private/hello.txt")
        assert (r.status, r.body) == (403, b"Forbidden")

    def test_private_with_signature_is_served(self, client: Client) -> None:
        query = sign_path("/private/hello.txt", SECRET, int(time.time()) + 60)
        assert client.get(f"/private/hello.txt?{query}").body == HELLO

    def test_private_with_tampered_signature_is_403(self, client: Client) -> None:
        query = sign_path("/private/hello.txt", SECRET, int(time.time()) + 60)
        assert client.get(f"/private/data.bin?{query}").status == 403
        assert client.get(f"/private/hello.txt?{query[:-2]}xx").status == 403
        later = query.replace("expires=", "expires=9")
        assert client.get(f"/private/hello.txt?{later}").status == 403

    def test_private_with_expired_signature_is_403(self, client: Client) -> None:
        query = sign_path("/private/hello.txt", SECRET, int(time.time()) - 1)
        assert client.get(f"/private/hello.txt?{query}").status == 403

    def test_private_listing_signs_its_links(self, client: Client) -> None:
        import json

        query = sign_path("/private/dir", SECRET, int(time.time()) + 60)
        listing = json.loads(client.get(f"/private/dir?{query}&format=json").body)
        href = next(e["href"] for e in listing["entries"] if e["name"] == "nested.txt")
        assert client.get(f"/private/{href}").body == FILES["dir/nested.txt"]

    def test_redirect_policy_streams_local_files(self, client: Client) -> None:
        assert client.get("/redirect-local/hello.txt").body == HELLO

    def test_x_sendfile_names_the_file_and_sends_no_body(
        self, client: Client, spec: dict[str, Any]
    ) -> None:
        r = client.get("/sendfile/hello.txt")
        assert (r.status, r.body) == (200, b"")
        assert r.headers["x-sendfile"] == f"{spec['root']}/hello.txt"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"

    def test_x_accel_redirect_names_the_internal_location(self, client: Client) -> None:
        r = client.get(f"/accel/{quote(UNICODE)}")
        assert r.headers["x-accel-redirect"] == f"/_int/{quote(UNICODE)}"
        assert r.body == b""

    def test_offload_still_answers_404_itself(self, client: Client) -> None:
        assert client.get("/accel/missing.txt").status == 404


class S3Cases:
    """What only a remote mount shows."""

    @pytest.fixture(autouse=True)
    def _s3(self) -> None:
        from tests.services import require_services

        require_services("s3")

    def test_multipart_etag_is_an_opaque_token(self, client: Client) -> None:
        r = client.request("HEAD", "/s3/multi.bin")
        etag = r.headers["etag"]
        assert etag.endswith('-2"') and len(etag) > 34
        assert client.get("/s3/multi.bin", if_none_match=etag).status == 304

    def test_single_part_etag_is_the_content_md5(self, client: Client) -> None:
        import hashlib

        etag = client.get("/s3/hello.txt").headers["etag"]
        assert etag == f'"{hashlib.md5(HELLO).hexdigest()}"'

    def test_redirect_policy_sends_a_presigned_url(self, client: Client) -> None:

        r = client.get("/redirect-s3/data.bin")
        assert r.status == 302 and r.headers["cache-control"] == "no-store"
        location = r.headers["location"]
        assert "Signature=" in location or "X-Amz-Signature=" in location
        assert _http.get(location).content == DATA

    def test_redirect_policy_answers_304_itself(self, client: Client) -> None:
        etag = client.get("/s3/data.bin").headers["etag"]
        assert client.get("/redirect-s3/data.bin", if_none_match=etag).status == 304


# One request per attack; each must stay inside the mount (the secret lives next to it).
ATTACKS = {
    "dotdot": "/plain/../outside/secret.txt",
    "dotdot_deep": "/plain/dir/../../outside/secret.txt",
    "encoded_dotdot": "/plain/%2e%2e/outside/secret.txt",
    "encoded_dotdot_upper": "/plain/%2E%2E/outside/secret.txt",
    "encoded_slash": "/plain/..%2foutside%2fsecret.txt",
    "encoded_backslash": "/plain/..%5coutside%5csecret.txt",
    "backslash": "/plain/..\\outside\\secret.txt",
    "double_encoded": "/plain/%252e%252e/outside/secret.txt",
    "nul": "/plain/hello.txt%00.png",
    "device_name": "/plain/CON",
    "device_name_with_extension": "/plain/aux.txt",
    "drive_letter": "/plain/C:/Windows/win.ini",
    "absolute": "/plain//etc/passwd",
    "overlong": "/plain/" + "a" * 300,
    "invalid_utf8": "/plain/%ff%fe.txt",
    "symlink_dir": "/plain/escape/secret.txt",
    "symlink_file": "/plain/escape-file.txt",
}


def raw_request(port: int, target: str) -> tuple[int, bytes]:
    """Send ``GET target`` exactly as written (no client-side normalisation)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data
