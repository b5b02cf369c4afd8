"""S3 features on a real S3 API (moto server): versions, metadata, presigned URLs, MD5.

The module makes its own buckets with boto3: one with versioning enabled, one that never
had it, one where it was enabled and then suspended. Each test mounts a fresh prefix.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest

from genro_storage import StorageManager
from genro_storage.errors import StorageNotFoundError
from tests.backends.conftest import unique
from tests.remote import S3Requests, s3_client
from tests.services import require_services

pytestmark = pytest.mark.services

MiB = 1024 * 1024


def md5(data: bytes | str) -> str:
    return hashlib.md5(data.encode() if isinstance(data, str) else data).hexdigest()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return require_services("s3")


@pytest.fixture(scope="module")
def client(env: dict[str, str]) -> Any:
    return s3_client(env)


def _bucket(client: Any, status: str | None) -> str:
    name = unique("genro-s3")
    client.create_bucket(Bucket=name)
    if status:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if status == "Suspended":
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    return name


@pytest.fixture(scope="module")
def versioned_bucket(client: Any) -> str:
    return _bucket(client, "Enabled")


@pytest.fixture(scope="module")
def plain_bucket(client: Any) -> str:
    return _bucket(client, None)


@pytest.fixture(scope="module")
def suspended_bucket(client: Any) -> str:
    return _bucket(client, "Suspended")


class S3Mount:
    """A manager with mount ``s3`` on ``bucket/prefix``, and what the tests need around it.

    Building an s3fs client costs a few hundred milliseconds, so one mount serves a whole
    module; :meth:`area` gives each test a fresh directory of it.
    """

    def __init__(
        self, env: dict[str, str], client: Any, bucket: str, prefix: str, s3_client: str
    ) -> None:
        self.env, self.client, self.bucket, self.prefix = env, client, bucket, prefix
        self.s3_client = s3_client
        self.manager = StorageManager()
        self.manager.configure(
            [
                {
                    "name": "s3",
                    "type": "s3",
                    "bucket": bucket,
                    "prefix": prefix,
                    "key": env["SVC_S3_KEY"],
                    "secret": env["SVC_S3_SECRET"],
                    "endpoint_url": env["SVC_S3_ENDPOINT"],
                    "client": s3_client,
                }
            ]
        )

    def area(self) -> S3Area:
        return S3Area(self, unique("d"))


class S3Area:
    """One test's directory ``sub`` inside an :class:`S3Mount`."""

    def __init__(self, mount: S3Mount, sub: str) -> None:
        self.mount, self.sub = mount, sub
        self.env, self.client, self.bucket = mount.env, mount.client, mount.bucket
        self.manager = mount.manager

    def node(self, path: str, **kwargs: Any) -> Any:
        return self.manager.node(f"s3:{self.sub}/{path}", **kwargs)

    def key(self, path: str) -> str:
        return f"{self.mount.prefix}/{self.sub}/{path}"

    def head(self, path: str) -> dict[str, Any]:
        return dict(self.client.head_object(Bucket=self.bucket, Key=self.key(path)))

    def requests_for(self, recorder: S3Requests, path: str) -> list[str]:
        """``"METHOD kind"`` of the recorded requests that named ``path``'s object."""
        wanted = urllib.request.quote(f"/{self.bucket}/{self.key(path)}")
        return [
            summary
            for summary, req in zip(recorder.summary(), recorder.requests)
            if wanted in req["url"]
        ]


#: the mount's client (``client`` key): versions, metadata and URLs are botocore's on
#: both, the rest of these tests goes through obstore on the second
S3_CLIENTS = ["botocore", "obstore"]


@pytest.fixture(scope="module", params=S3_CLIENTS)
def versioned_mount(
    request: pytest.FixtureRequest, env: dict[str, str], client: Any, versioned_bucket: str
) -> S3Mount:
    return S3Mount(env, client, versioned_bucket, unique("pre"), request.param)


@pytest.fixture(scope="module", params=S3_CLIENTS)
def plain_mount(
    request: pytest.FixtureRequest, env: dict[str, str], client: Any, plain_bucket: str
) -> S3Mount:
    return S3Mount(env, client, plain_bucket, unique("pre"), request.param)


@pytest.fixture
def vs3(versioned_mount: S3Mount) -> S3Area:
    """A fresh directory of the versioned bucket (under the mount's prefix)."""
    return versioned_mount.area()


@pytest.fixture
def ps3(plain_mount: S3Mount) -> S3Area:
    """A fresh directory of a bucket that never had versioning."""
    return plain_mount.area()


def write_all(node: Any, *contents: str) -> None:
    for content in contents:
        node.write(content)


# ---------------------------------------------------------------- versions
def test_versions_are_listed_oldest_first_with_the_api_fields(vs3: S3Area) -> None:
    # 0.4.2 compatibility, docs/versioning.md:
    # sorted oldest first (0.4.2's code; its docs numbered newest-first)
    node = vs3.node("doc.txt")
    write_all(node, "one", "two!", "three")

    versions = node.versions

    assert node.version_count == 3
    assert [set(v) for v in versions] == [
        {"version_id", "is_latest", "last_modified", "size", "etag"}
    ] * 3
    assert [v["etag"] for v in versions] == [md5("one"), md5("two!"), md5("three")]
    assert [v["size"] for v in versions] == [3, 4, 5]
    assert [v["is_latest"] for v in versions] == [False, False, True]
    stamps = [v["last_modified"] for v in versions]
    assert all(s.tzinfo is not None for s in stamps)
    assert stamps == sorted(stamps)
    listed = vs3.client.list_object_versions(Bucket=vs3.bucket, Prefix=vs3.key("doc.txt"))
    assert [v["version_id"] for v in versions] == [
        v["VersionId"] for v in reversed(listed["Versions"])
    ]


def test_versions_leave_out_other_keys_sharing_the_name_prefix(vs3: S3Area) -> None:
    write_all(vs3.node("a.txt"), "a1", "a2")
    write_all(vs3.node("a.txt.bak"), "b1", "b2", "b3")

    assert [v["etag"] for v in vs3.node("a.txt").versions] == [md5("a1"), md5("a2")]
    assert vs3.node("a.txt.bak").version_count == 3


def test_missing_file_has_no_versions(vs3: S3Area) -> None:
    assert vs3.node("never-written.txt").versions == []
    assert vs3.node("never-written.txt").version_count == 0


def test_open_reads_a_version_by_index_and_by_id(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "first", "second", "third")
    middle_id = node.versions[1]["version_id"]

    with node.open(version=0) as fh:
        assert fh.read() == "first"
    with node.open("rb", version=-1) as fh:
        assert fh.read() == b"third"
    with node.open("rb", version=-3) as fh:
        assert fh.read() == b"first"
    with node.open(version=middle_id) as fh:
        assert fh.read() == "second"
    assert node.read() == "third"


def test_open_at_a_date_picks_the_newest_version_not_after_it(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "old", "new")

    with node.open(as_of=datetime(2999, 1, 1)) as fh:  # naive: taken as UTC
        assert fh.read() == "new"
    with pytest.raises(FileNotFoundError):
        node.open(as_of=datetime(2000, 1, 1, tzinfo=timezone.utc))


def test_version_arguments_are_checked_before_any_read(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "only")

    with pytest.raises(ValueError, match="Cannot specify both version and as_of"):
        node.open(version=0, as_of=datetime(2999, 1, 1))
    with pytest.raises(ValueError, match="historical versions"):
        node.open("w", version=0)
    with pytest.raises(IndexError, match=r"Version index 5 out of range.*0 to 0 or -1 to -1"):
        node.open(version=5)


def test_snapshot_node_reads_its_version_and_refuses_writes(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "v-one", "v-two")

    snapshot = vs3.node("doc.txt", version=0)

    assert snapshot.read() == "v-one"
    assert snapshot.read("rb") == b"v-one"
    caps = snapshot.capabilities
    assert (caps.versioning, caps.version_listing, caps.version_access) == (False, False, False)
    with pytest.raises(ValueError, match="versioned snapshot"):
        snapshot.write("nope")
    with pytest.raises(ValueError, match="versioned snapshot"):
        snapshot.open(version=1)
    with pytest.raises(PermissionError, match="does not support versioning"):
        snapshot.compact_versions()
    # restoring = writing the old content back, which makes a new version
    node.write(snapshot.read())
    assert node.read() == "v-one"
    assert [v["etag"] for v in node.versions] == [md5("v-one"), md5("v-two"), md5("v-one")]


def test_compact_versions_removes_each_version_equal_to_its_predecessor(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "A", "A", "B", "B", "A")
    before = node.versions

    assert node.compact_versions(dry_run=True) == 2
    assert node.versions == before  # dry run deletes nothing

    assert node.compact_versions() == 2

    after = node.versions
    assert [v["etag"] for v in after] == [md5("A"), md5("B"), md5("A")]
    # of each equal pair the newer one goes (0.4.2 compatibility, docs/versioning.md)
    kept = {v["version_id"] for v in after}
    assert kept == {before[0]["version_id"], before[2]["version_id"], before[4]["version_id"]}
    assert node.read() == "A"
    assert node.compact_versions() == 0


def test_compact_versions_keeps_non_consecutive_duplicates(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    write_all(node, "A", "A", "B", "A")
    assert node.compact_versions() == 1
    assert [v["etag"] for v in node.versions] == [md5("A"), md5("B"), md5("A")]


def test_compact_versions_with_fewer_than_two_versions_is_zero(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    node.write("single")
    assert node.compact_versions() == 0
    assert node.version_count == 1


def test_skip_if_unchanged_compares_with_the_latest_version(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    assert node.write("same") is True
    assert node.write("same", skip_if_unchanged=True) is False
    assert node.version_count == 1
    assert node.write("changed", skip_if_unchanged=True) is True
    assert node.version_count == 2


# ---------------------------------------------------------------- buckets without versioning
def test_unversioned_bucket_reports_no_versioning_and_one_null_version(ps3: S3Area) -> None:
    node = ps3.node("doc.txt")
    write_all(node, "one", "two")

    caps = node.capabilities
    assert (caps.versioning, caps.version_listing, caps.version_access) == (False, False, False)
    versions = node.versions
    assert [(v["version_id"], v["is_latest"], v["etag"]) for v in versions] == [
        ("null", True, md5("two"))
    ]
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.open(version=0)
    with pytest.raises(PermissionError, match="does not support versioning"):
        node.compact_versions(dry_run=True)


def test_suspended_bucket_lists_history_but_does_not_version_new_writes(
    env: dict[str, str], client: Any, suspended_bucket: str
) -> None:
    node = S3Mount(env, client, suspended_bucket, unique("pre"), "botocore").area().node("doc.txt")
    write_all(node, "one", "two")

    caps = node.capabilities
    assert caps.versioning is False
    assert (caps.version_listing, caps.version_access) == (True, True)
    assert [v["version_id"] for v in node.versions] == ["null"]  # overwritten in place


# ---------------------------------------------------------------- metadata
def test_metadata_round_trip_merges_and_keeps_the_content(vs3: S3Area) -> None:
    node = vs3.node("report.csv")
    node.write("a,b\n1,2\n")
    assert node.get_metadata() == {}

    node.set_metadata({"owner": "ana", "state": "draft"})
    node.set_metadata({"state": "final"})

    assert node.get_metadata() == {"owner": "ana", "state": "final"}
    assert vs3.head("report.csv")["Metadata"] == {"owner": "ana", "state": "final"}
    assert node.read() == "a,b\n1,2\n"
    assert node.md5hash == md5("a,b\n1,2\n")


def test_set_metadata_keeps_the_content_type(vs3: S3Area) -> None:
    vs3.client.put_object(
        Bucket=vs3.bucket, Key=vs3.key("page.html"), Body=b"<p>", ContentType="text/html"
    )
    vs3.node("page.html").set_metadata({"k": "v"})
    head = vs3.head("page.html")
    assert (head["ContentType"], head["Metadata"]) == ("text/html", {"k": "v"})


def test_metadata_of_a_missing_file_and_bad_values(vs3: S3Area) -> None:
    missing = vs3.node("missing.txt")
    with pytest.raises(StorageNotFoundError, match="'s3'"):
        missing.get_metadata()
    with pytest.raises(FileNotFoundError):
        missing.set_metadata({"a": "b"})
    node = vs3.node("doc.txt")
    node.write("x")
    with pytest.raises(ValueError):
        node.set_metadata({"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError):
        node.set_metadata(["not", "a", "dict"])  # type: ignore[arg-type]
    assert node.get_metadata() == {}


def test_metadata_keys_are_stored_lowercased(vs3: S3Area) -> None:
    node = vs3.node("doc.txt")
    node.write("x")
    node.set_metadata({"Owner": "Ana"})  # S3 sends keys as x-amz-meta-* headers
    assert node.get_metadata() == {"owner": "Ana"}


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"k": "ünï"}, "printable ASCII"),
        ({"k": "two\nlines"}, "printable ASCII"),
        ({"a b": "1"}, "invalid metadata key 'a b'"),
        ({"": "v"}, "must not be empty"),
        ({"big": "a" * 2100}, "too large"),
    ],
    ids=["non-ascii-value", "newline", "space-in-key", "empty-key", "over-2kb"],
)
def test_metadata_s3_cannot_store_is_refused_before_sending(
    vs3: S3Area, metadata: dict[str, str], message: str
) -> None:
    node = vs3.node("doc.txt")
    node.write("x")
    node.set_metadata({"keep": "me"})
    versions = node.version_count

    with pytest.raises(ValueError, match=message) as refused:
        node.set_metadata(metadata)

    assert "'s3'" in str(refused.value)
    assert vs3.head("doc.txt")["Metadata"] == {"keep": "me"}
    assert node.version_count == versions  # no copy was made


# ---------------------------------------------------------------- presigned URLs
def test_presigned_url_downloads_the_exact_bytes_with_plain_urllib(vs3: S3Area) -> None:
    payload = bytes(range(256)) * 64 + os.urandom(1000)
    node = vs3.node("dir/ünï côde #1.bin")
    node.write(payload, "wb")

    url = node.url(expires_in=120)

    assert url is not None and url.startswith(vs3.env["SVC_S3_ENDPOINT"])
    assert "Signature=" in url or "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=10) as resp:  # loopback moto
        assert resp.read() == payload


def test_presigned_url_carries_the_requested_lifetime(vs3: S3Area) -> None:
    # moto does not enforce expiry, so check what the URL asks for instead
    from urllib.parse import parse_qs, urlsplit

    node = vs3.node("doc.txt")
    node.write("x")
    query = parse_qs(urlsplit(node.url(expires_in=90)).query)
    if "Expires" in query:  # SigV2: absolute time
        assert abs(int(query["Expires"][0]) - datetime.now().timestamp() - 90) < 30
    else:  # SigV4: a duration
        assert query["X-Amz-Expires"] == ["90"]


# ---------------------------------------------------------------- MD5
def test_md5hash_comes_from_the_etag_without_downloading(vs3: S3Area) -> None:
    content = os.urandom(300_000)
    node = vs3.node("blob.bin")
    node.write(content, "wb")
    assert node.capabilities.hash_on_metadata  # asks the bucket once, outside the recording

    with S3Requests(vs3.env["SVC_S3_ENDPOINT"], vs3.bucket) as recorder:
        digest = node.md5hash

    assert digest == md5(content)
    calls = vs3.requests_for(recorder, "blob.bin")
    assert calls == ["HEAD object"]  # one stat carries the MD5; the body is never fetched


def test_multipart_etag_is_not_an_md5_so_the_content_is_hashed(vs3: S3Area) -> None:
    content = os.urandom(6 * MiB)  # two parts of S3Backend.block_size (5 MiB)
    node = vs3.node("big.bin")
    with node.open("wb") as fh:
        fh.write(content)
    etag = vs3.head("big.bin")["ETag"].strip('"')
    assert "-" in etag, etag  # a multipart ETag: md5 of the part md5s, then "-<parts>"

    with S3Requests(vs3.env["SVC_S3_ENDPOINT"], vs3.bucket) as recorder:
        digest = node.md5hash

    assert digest == md5(content)
    assert any(c.startswith("GET") for c in vs3.requests_for(recorder, "big.bin"))
    assert node.stat().md5 is None
    assert node == node.parent.child("big.bin")  # equality by fullpath, no hashing


def test_nodes_with_equal_content_compare_equal_by_stored_md5(vs3: S3Area) -> None:
    a, b, c = vs3.node("a.txt"), vs3.node("b.txt"), vs3.node("c.txt")
    a.write("same")
    b.write("same")
    c.write("other")
    assert a == b
    assert a != c


# ---------------------------------------------------------------- capabilities vs reality
def test_every_capability_s3_claims_works(vs3: S3Area) -> None:
    node = vs3.node("caps/doc.txt")
    write_all(node, "v1", "v2")
    caps = node.capabilities

    assert caps.versioning and caps.version_listing and caps.version_access
    assert node.version_count == 2
    with node.open(version=0) as fh:
        assert fh.read() == "v1"
    assert caps.metadata
    node.set_metadata({"m": "1"})
    assert node.get_metadata() == {"m": "1"}
    assert caps.presigned_urls
    with urllib.request.urlopen(node.url(expires_in=60), timeout=10) as resp:
        assert resp.read() == b"v2"
    assert caps.hash_on_metadata
    assert node.stat().md5 == md5("v2")
    assert caps.copy_optimization
    with S3Requests(vs3.env["SVC_S3_ENDPOINT"], vs3.bucket) as recorder:
        node.copy_to(vs3.node("caps/copy.txt"))
    assert vs3.node("caps/copy.txt").read() == "v2"
    assert "PUT object copy" in recorder.summary()  # server-side CopyObject
    assert [c for c in vs3.requests_for(recorder, "caps/doc.txt") if c.startswith("GET")] == []


# ---------------------------------------------------------------- delete: requests
def test_a_file_delete_is_one_head_and_one_delete(ps3: S3Area) -> None:
    node = ps3.node("gone.txt")
    node.write("x")
    with S3Requests(ps3.env["SVC_S3_ENDPOINT"], ps3.bucket) as recorder:
        node.delete()
    # (obstore deletes one object with a DeleteObjects request)
    deleted = "DELETE object" if ps3.mount.s3_client == "botocore" else "POST bucket"
    assert recorder.summary() == ["HEAD object", deleted]
    assert not node.exists


def test_deleting_nothing_is_one_head_and_one_listing(ps3: S3Area) -> None:
    ps3.node("keep.txt").write("k")  # a neighbour whose name starts the same stays
    with S3Requests(ps3.env["SVC_S3_ENDPOINT"], ps3.bucket) as recorder:
        ps3.node("kee").delete()
    assert recorder.summary() == ["HEAD object", "GET list"]
    assert ps3.node("keep.txt").read() == "k"


def test_a_folder_delete_is_head_listing_and_one_batch(ps3: S3Area) -> None:
    """Everything below ``folder/`` (a marker object included) in one DeleteObjects;
    neighbours whose names start the same (``folder.bak``, ``folder2/``) stay."""
    for name in ("folder/a.txt", "folder/sub/b.txt", "folder.bak", "folder2/c.txt"):
        ps3.node(name).write(name)
    ps3.client.put_object(Bucket=ps3.bucket, Key=ps3.key("folder/"), Body=b"")
    with S3Requests(ps3.env["SVC_S3_ENDPOINT"], ps3.bucket) as recorder:
        ps3.node("folder").delete()
    assert recorder.summary() == ["HEAD object", "GET list", "POST bucket"]
    left = ps3.client.list_objects_v2(Bucket=ps3.bucket, Prefix=ps3.key(""))["Contents"]
    assert sorted(item["Key"] for item in left) == [ps3.key("folder.bak"), ps3.key("folder2/c.txt")]


def test_a_big_folder_is_listed_whole_then_deleted_in_batches(
    ps3: S3Area, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genro_storage.backends.s3 import S3Backend

    monkeypatch.setattr(S3Backend, "delete_batch", 2)  # (S3's 1,000, made small)
    for i in range(5):
        ps3.node(f"big/f{i}.txt").write("x")
    with S3Requests(ps3.env["SVC_S3_ENDPOINT"], ps3.bucket) as recorder:
        ps3.node("big").delete()
    assert recorder.summary() == ["HEAD object"] + ["GET list"] * 3 + ["POST bucket"] * 3
    assert not ps3.node("big").exists


def test_a_key_that_is_also_a_folder_loses_the_file_only(ps3: S3Area) -> None:
    ps3.node("both").write("file")
    ps3.node("both/inside.txt").write("inside")
    ps3.node("both").delete()
    assert ps3.node("both").isdir and ps3.node("both/inside.txt").read() == "inside"
    ps3.node("both").delete()  # now a folder only: the tree
    assert not ps3.node("both").exists


def test_a_refused_batch_delete_raises_naming_the_key(
    ps3: S3Area, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genro_storage.errors import StorageError

    for name in ("held/a.txt", "held/b.txt"):
        ps3.node(name).write("x")
    node = ps3.node("held")
    fs = node._backend.fs
    real = fs.call_s3

    def refusing(method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "delete_objects":  # what S3 answers for an object under legal hold
            key = kwargs["Delete"]["Objects"][0]["Key"]
            return {"Errors": [{"Key": key, "Code": "AccessDenied", "Message": "held"}]}
        return real(method, *args, **kwargs)

    monkeypatch.setattr(fs, "call_s3", refusing)
    with pytest.raises(StorageError, match=r"mount 's3'.*not deleted.*held/a\.txt.*AccessDenied"):
        node.delete()
