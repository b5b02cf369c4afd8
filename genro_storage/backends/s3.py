"""Amazon S3 and S3-compatible services (MinIO, Ceph, R2, moto) through s3fs.

Versions, metadata, presigned URLs and the MD5 from the ETag come straight from the S3
API. The versioning flags of :attr:`S3Backend.capabilities` follow the bucket: they are
true only when the bucket has versioning enabled (asked once, then cached; see
:meth:`S3Backend.refresh_capabilities`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import threading
from typing import IO, Any
from urllib.parse import quote

from fsspec.asyn import sync

from ..capabilities import OBJECT_STORE, BackendCapabilities
from ..errors import (
    MissingDependencyError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    StorageNotFoundError,
)
from ..paths import is_root
from ._errors import classify
from ._filesection import FileSection
from ._metadata import check_metadata, check_metadata_size
from ._objectparams import parse_object_parameters
from ._requestlog import logging_session
from ._s3download import RangedDownload
from ._timestamps import parse_timestamp
from ._transfer import NetworkSettings
from .base import EntryInfo, StorageBackend
from .fsspec import FsspecBackend, LocalSource

__all__ = ["S3Backend", "create"]

MiB = 1024 * 1024
#: S3's limit of parts per multipart upload: bigger files get bigger parts
MAX_PARTS = 10_000
#: parts in flight per file on S3 unless the mount says otherwise (s5cmd's default): they
#: are read from the file as sent, so memory does not grow with them
S3_PART_CONCURRENCY = 5
#: ranged GETs in flight per large object on S3 unless the mount says otherwise (s5cmd's
#: 5; rclone's multi-thread downloads use 4): each is written in place as it arrives
S3_DOWNLOAD_CONCURRENCY = 5
METADATA_LIMIT = 2 * 1024  # user-defined metadata, keys plus values
_KEPT_HEADERS = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
)


_S3_HEADERS = {
    "cache_control": "CacheControl",
    "content_disposition": "ContentDisposition",
    "content_encoding": "ContentEncoding",
    "content_language": "ContentLanguage",
    "content_type": "ContentType",
}


class S3Backend(FsspecBackend):
    """A bucket, or a prefix inside one."""

    default_capabilities = OBJECT_STORE.evolve(append_mode=False)
    # writes buffer one 5 MiB part (S3's minimum; 10,000 parts: objects up to ~48 GiB
    # when streamed); reads fetch 2 MiB per request: memory stays flat either way
    block_size = 5 * MiB
    read_block_size = 2 * MiB
    implicit_dirs = True
    native_download = True
    batch_transfers = True
    #: small files in flight on the batch route (each a coroutine, no thread): behind a
    #: 20 ms round trip, 300 x 4 KiB up took 0.75-0.88 s with 64 against 1.06-1.16 s with
    #: the 16 threads' count (s5cmd runs 256); the pool holds :data:`POOL_CONNECTIONS`
    batch_in_flight = 64
    #: downloads to a local disk on the batch route too: small objects are one GET read
    #: whole and one write of the temp file (client CPU per file 10-15% under the worker
    #: threads' on moto, 300 x 4 KiB)
    batch_downloads = True
    #: S3 refuses parts below 5 MiB (except the last)
    min_part_size = 5 * MiB
    network: NetworkSettings
    #: endpoint and credentials from the mount's configuration: two mounts with the same
    #: copy server-side between them (None: never, e.g. a filesystem built elsewhere)
    account: tuple[Any, ...] | None = None

    def __init__(
        self,
        fs: Any,
        bucket: str,
        prefix: str = "",
        mount_name: str = "",
        versions_fs: Any = None,
        network: NetworkSettings | None = None,
    ) -> None:
        self.network = network or NetworkSettings()
        prefix = prefix.strip("/")
        super().__init__(fs, f"{bucket}/{prefix}" if prefix else bucket, "s3", mount_name)
        self.bucket = bucket
        self._versioning_status: str | None = None
        self._versioning_lock = threading.Lock()
        self._known_capabilities = self._capabilities
        self._versions_factory = versions_fs
        self._versions: Any = None

    @property
    def versions_fs(self) -> Any:
        """A version-aware twin of :attr:`fs`, for version listing and reads.

        The main filesystem lists with ListObjectsV2: a version-aware one would list every
        version of every object (ListObjectVersions), slower as history grows.
        """
        if getattr(self.fs, "version_aware", False) or self._versions_factory is None:
            return self.fs
        if self._versions is None:
            self._versions = self._versions_factory()
        return self._versions

    # ------------------------------------------------------------------ capabilities
    def versioning_status(self) -> str:
        """The bucket's versioning status: ``'Enabled'``, ``'Suspended'`` or ``''`` (never on)."""
        status = self._versioning_status
        if status is not None:
            return status
        with self._versioning_lock:  # copy workers ask at once: one request is enough
            if self._versioning_status is None:
                answer = self.fs.call_s3("get_bucket_versioning", Bucket=self.bucket)
                status = str(answer.get("Status") or "")
                self._known_capabilities = self._capabilities.evolve(
                    versioning=status == "Enabled",
                    version_listing=bool(status),
                    version_access=bool(status),
                )
                self._versioning_status = status  # last: readers without the lock
            return self._versioning_status

    def refresh_capabilities(self) -> None:
        """Forget the cached versioning status (after turning bucket versioning on or off)."""
        self._versioning_status = None

    @property
    def capabilities(self) -> BackendCapabilities:
        try:
            self.versioning_status()
        except Exception:  # unreachable: report what is sure; ask again next time
            return self._capabilities
        return self._known_capabilities

    def translate_error(self, exc: BaseException, path: str) -> BaseException | None:
        text = str(exc)
        if type(exc).__name__ == "NoCredentialsError" or "Unable to locate credentials" in text:
            return StorageAuthError(
                f"{self.describe()}: no credentials were found, so no request was sent. "
                f"They are looked for in the mount's 'key'/'secret' (or 'token'), then "
                f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials and "
                f"~/.aws/config (AWS_PROFILE), then the instance or container role; "
                f"set 'anon: true' for a public bucket"
            )
        if isinstance(exc, FileNotFoundError) and is_root(path):
            # the mount root is missing only when its bucket is (a prefix always exists)
            return StorageNotFoundError(
                f"{self.describe()}: bucket '{self.bucket}' does not exist ({text or 'Not Found'})"
            )
        if isinstance(exc, FileNotFoundError) and "bucket does not exist" in text:
            return StorageNotFoundError(
                f"{self.describe()}: bucket '{self.bucket}' does not exist ({text})"
            )
        if isinstance(exc, PermissionError):
            return StorageAuthError(
                f"{self.describe()}: access denied by the S3 server; check key, secret "
                f"and the bucket policy ({text or 'Forbidden'})"
            )
        return None

    # ------------------------------------------------------------------ cleanup
    def cleanup(
        self, path: str = "", older_than: float = 3600.0, dry_run: bool = False
    ) -> list[str]:
        """Abort multipart uploads under ``path`` started more than ``older_than`` s ago.

        A process killed while streaming leaves its multipart upload open: invisible in
        listings, its parts still stored (and billed) until aborted. Each aborted upload
        is reported as ``'<key> (multipart upload <id>)'``.
        """
        import datetime as _dt

        cutoff = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(seconds=older_than)
        key = self._key(path)
        prefix = "" if not key else key.rstrip("/") + ("/" if self.is_dir(path) else "")
        found: list[str] = []
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        while True:
            page = self.fs.call_s3("list_multipart_uploads", **params)
            for upload in page.get("Uploads", []):
                started = upload.get("Initiated")
                if started is not None and started.tzinfo is None:
                    started = started.replace(tzinfo=_dt.timezone.utc)
                if started is not None and started > cutoff:
                    continue
                found.append(f"{upload['Key']} (multipart upload {upload['UploadId']})")
                if not dry_run:
                    self.fs.call_s3(
                        "abort_multipart_upload",
                        Bucket=self.bucket,
                        Key=upload["Key"],
                        UploadId=upload["UploadId"],
                    )
            if not page.get("IsTruncated"):
                return found
            params["KeyMarker"] = page.get("NextKeyMarker")
            params["UploadIdMarker"] = page.get("NextUploadIdMarker")

    # ------------------------------------------------------------------ helpers
    def _key(self, path: str) -> str:
        return self._full(path).split("/", 1)[1] if "/" in self._full(path) else ""

    # ------------------------------------------------------------------ listing
    def list_page(
        self, path: str, cursor: str | None = None, limit: int = 1000
    ) -> tuple[list[EntryInfo], str | None]:
        """One ListObjectsV2 request (``Delimiter='/'``) per page; the cursor is S3's
        continuation token. Sub-prefixes come back as directories, in S3's key order."""
        key = self._key(path)
        prefix = f"{key}/" if key else ""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": prefix,
            "Delimiter": "/",
            "MaxKeys": max(1, min(limit, 1000)),
        }
        if cursor:
            params["ContinuationToken"] = cursor
        answer = self.fs.call_s3("list_objects_v2", **params)
        base = f"{path}/" if path else ""
        entries = [
            EntryInfo(base + item["Prefix"][len(prefix) :].rstrip("/"), True, 0)
            for item in answer.get("CommonPrefixes") or ()
        ]
        for item in answer.get("Contents") or ():
            name = item["Key"][len(prefix) :]
            if not name or name.endswith("/"):  # the folder's own marker object
                continue
            etag = str(item.get("ETag") or "").strip('"') or None
            md5 = etag if etag and len(etag) == 32 and "-" not in etag else None
            modified = item.get("LastModified")
            entries.append(
                EntryInfo(
                    base + name,
                    False,
                    int(item.get("Size") or 0),
                    modified.timestamp() if modified is not None else None,
                    etag,
                    md5,
                )
            )
        entries.sort(key=lambda e: e.name)
        if not entries and not cursor and path and not answer.get("KeyCount"):
            self.info(path)  # FileNotFoundError for a folder that is not there
        following = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
        return entries, following

    # ------------------------------------------------------------------ delete
    #: keys per ListObjectsV2 page and per DeleteObjects request (S3's maximum for both)
    delete_batch = 1000

    def delete(self, path: str, recursive: bool = False) -> None:
        """A file (the key itself, first: a key that is also a folder loses the file
        only, as before), else the whole folder below ``key/``; nothing there: no-op.

        Requests: a file is HeadObject + DeleteObject (2); nothing there is HeadObject +
        one ListObjectsV2 (2); a folder is HeadObject + one ListObjectsV2 per 1,000 keys
        below + one DeleteObjects per 1,000 (3 for a small folder, where fsspec's
        ``info`` then ``rm(recursive=True)`` took 4: a one-key listing before the full
        one). A key DeleteObjects reports as not deleted raises, naming it.
        """
        self.check_write_allowed()
        self.refuse_root_delete(path)
        key = self._key(path)
        if not key or key == self._key(""):  # belt and braces: the mount root, spelt otherwise
            self.refuse_root_delete("")
        fs = self.fs
        try:
            fs.call_s3("head_object", Bucket=self.bucket, Key=key)
        except OSError as exc:
            if classify(exc) != "not_found":
                raise
        else:
            fs.call_s3("delete_object", Bucket=self.bucket, Key=key)
            self._invalidate(path)
            return
        self._delete_below(path, key)

    def _delete_below(self, path: str, key: str) -> None:
        """Every object below ``key/`` (folder markers too): listed whole, then removed
        in DeleteObjects batches; a key not deleted raises, naming it."""
        fs = self.fs
        below = self._keys_below(key + "/")
        for start in range(0, len(below), self.delete_batch):
            batch = below[start : start + self.delete_batch]
            answer = fs.call_s3(
                "delete_objects",
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            failed = answer.get("Errors") or ()
            if failed:
                first = failed[0]
                raise StorageError(
                    f"{self.describe()}: {len(failed)} of the objects below {path!r} were "
                    f"not deleted; first {first.get('Key')!r}: {first.get('Code')} "
                    f"{first.get('Message') or ''}".rstrip()
                )
        if below:
            self._invalidate(path)

    def _keys_below(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix`` (one ListObjectsV2 per page), listed before
        anything is deleted (pages are not asked while keys disappear)."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": prefix,
            "MaxKeys": self.delete_batch,
        }
        keys: list[str] = []
        while True:
            answer = self.fs.call_s3("list_objects_v2", **params)
            keys.extend(item["Key"] for item in answer.get("Contents") or ())
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or not token:
                return keys
            params["ContinuationToken"] = token

    # ------------------------------------------------------------------ versions
    def get_versions(self, path: str) -> list[dict[str, Any]]:
        key = self._key(path)
        found = self.versions_fs.object_version_info(self._full(path))
        versions = [
            {
                "version_id": str(v["VersionId"]),
                "is_latest": bool(v.get("IsLatest")),
                "last_modified": v["LastModified"],
                "size": int(v.get("Size") or 0),
                "etag": str(v.get("ETag", "")).strip('"'),
            }
            for v in found
            if v.get("Key") == key
        ]
        versions.reverse()  # S3 lists newest first; ties keep this order when sorted
        return versions

    def open_version(self, path: str, version_id: str, mode: str = "rb") -> IO[Any]:
        handle: IO[Any] = self.versions_fs.open(
            self._full(path), "rb", version_id=version_id, block_size=self.read_block_size
        )
        return handle

    def delete_version(self, path: str, version_id: str) -> None:
        self.check_write_allowed()
        self.fs.call_s3(
            "delete_object", Bucket=self.bucket, Key=self._key(path), VersionId=version_id
        )
        self._invalidate(path)

    # ------------------------------------------------------------------ metadata, URLs
    def get_metadata(self, path: str) -> dict[str, str]:
        head = self.fs.call_s3("head_object", Bucket=self.bucket, Key=self._key(path))
        return dict(head.get("Metadata") or {})

    def set_metadata(self, path: str, metadata: dict[str, str]) -> None:
        """Merge ``metadata`` into the object's (one server-side copy onto itself).

        S3 stores keys lowercased; keys must be HTTP header tokens and values printable
        ASCII (``ValueError`` otherwise, before any request).
        """
        self.check_write_allowed()
        self._check_metadata_args(path, metadata)
        check_metadata(self.describe(), metadata, keys="token", ascii_values=True)
        key = self._key(path)
        head = self.fs.call_s3("head_object", Bucket=self.bucket, Key=key)
        merged = {**(head.get("Metadata") or {}), **{k.lower(): v for k, v in metadata.items()}}
        check_metadata_size(self.describe(), merged, METADATA_LIMIT)
        kept = {name: head[name] for name in _KEPT_HEADERS if head.get(name)}
        self.fs.call_s3(
            "copy_object",
            CopySource={"Bucket": self.bucket, "Key": key},
            Bucket=self.bucket,
            Key=key,
            Metadata=merged,
            MetadataDirective="REPLACE",
            **kept,
        )
        self._invalidate(path)

    def _copy_object(self, src_path: str, dest_backend: FsspecBackend, dest_path: str) -> None:
        """One CopyObject request (s3fs would first HEAD the source for its size).

        Objects over S3's 5 GiB CopyObject limit are refused by the server; they are
        then copied in parts by s3fs (UploadPartCopy).
        """
        sync(self.fs.loop, self._copy_object_async, src_path, dest_backend, dest_path)

    async def _copy_object_async(
        self, src_path: str, dest_backend: FsspecBackend, dest_path: str
    ) -> None:
        """Coroutine twin of :meth:`_copy_object`."""
        assert isinstance(dest_backend, S3Backend)
        source = {"Bucket": self.bucket, "Key": self._key(src_path)}
        try:
            await self.fs._call_s3(
                "copy_object",
                Bucket=dest_backend.bucket,
                Key=dest_backend._key(dest_path),
                CopySource=source,
            )
        except (OSError, ValueError) as exc:
            if not _copy_source_too_large(exc):
                raise
            await self.fs._cp_file(self._full(src_path), dest_backend._full(dest_path))

    def _uploads_in_batch(self, os_path: str) -> bool:
        return True  # s3fs' put_file: one PUT, or parallel parts on the same loop

    async def _upload_async(
        self, os_path: str, full: str, fs: Any = None, local: LocalSource | None = None
    ) -> None:
        """:meth:`upload_file` on the client's loop: up to ``multipart_threshold`` bytes
        one PUT whose body is read from the file as it is sent (memory stays flat, and
        the ETag is the content's MD5); bigger files in parts read from the file as they
        are sent (:meth:`_upload_parts`).
        ``fs``: another s3fs instance of this mount (``genro://``'s async face passes the
        running loop's own); ``local``: the file's stat and, when small, its bytes (read by
        the batch route on the engine's thread: sent as they are)."""
        fs = fs if fs is not None else self.fs
        info = local.stat if local is not None else os.stat(os_path)
        kwargs = self._upload_kwargs(full, info.st_mtime)
        bucket, key, _ = fs.split_path(full)
        if info.st_size > self.network.multipart_threshold:
            await self._upload_parts(fs, os_path, info.st_size, bucket, key, kwargs)
            return
        if local is not None and local.data is not None:
            await fs._call_s3("put_object", Bucket=bucket, Key=key, Body=local.data, **kwargs)
            return
        with open(os_path, "rb") as body:
            await fs._call_s3(
                "put_object",
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentLength=info.st_size,
                **kwargs,
            )

    async def _upload_parts(
        self, fs: Any, os_path: str, size: int, bucket: str, key: str, kwargs: dict[str, Any]
    ) -> None:
        """A multipart upload whose parts are read from the file as they are sent.

        ``part_concurrency`` senders take the next part number in turn; each part's body
        is a :class:`~._filesection.FileSection` (the signer and the HTTP client read it
        in small pieces, and seek back to its start on a retry), so memory is a few small
        buffers per part in flight, not ``part_size`` bytes each. Any failure aborts the
        upload (no invisible parts left billed).
        """
        import asyncio

        part_size = max(self.network.part_size, -(-size // MAX_PARTS))
        count = max(1, -(-size // part_size))
        started = await fs._call_s3("create_multipart_upload", Bucket=bucket, Key=key, **kwargs)
        upload_id = started["UploadId"]
        etags = [""] * count
        numbers = iter(range(count))

        async def sender() -> None:
            for index in numbers:  # shared: each sender takes the next part
                offset = index * part_size
                with FileSection(os_path, offset, min(part_size, size - offset)) as body:
                    answer = await fs._call_s3(
                        "upload_part",
                        Bucket=bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=index + 1,
                        Body=body,
                        ContentLength=len(body),
                    )
                etags[index] = answer["ETag"]

        senders = [
            asyncio.ensure_future(sender())
            for _ in range(min(self.network.part_concurrency, count))
        ]
        try:
            await asyncio.gather(*senders)
            await fs._call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]
                },
            )
        except BaseException:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            with contextlib.suppress(Exception):
                await fs._call_s3(
                    "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id
                )
            raise

    def tuned(
        self, part_size: int | None = None, part_concurrency: int | None = None
    ) -> StorageBackend:
        """A twin of this mount (same client) with one call's ``part_size`` and
        ``part_concurrency`` (``copy_to(..., part_size=...)``); checked as the mount's
        own keys are. The call's ``part_concurrency`` is the parts of one file in flight
        either way: upload parts and download ranges."""
        changes = {
            name: value
            for name, value in (
                ("part_size", part_size),
                ("part_concurrency", part_concurrency),
                ("download_concurrency", part_concurrency),
            )
            if value is not None
        }
        if not changes:
            return self
        current = {f.name: getattr(self.network, f.name) for f in dataclasses.fields(self.network)}
        network = NetworkSettings.from_config(
            {**current, **changes}, self.mount_name, self.min_part_size
        )
        if network == self.network:
            return self
        _ = self.fs  # made now: the twin shares this client
        twin = copy.copy(self)
        twin.network = network
        return twin

    def _copies_server_side_to(self, dest_backend: FsspecBackend) -> bool:
        """Same endpoint and credentials: the server copies (any bucket, any prefix)."""
        return (
            isinstance(dest_backend, S3Backend)
            and bool(self._capabilities.copy_optimization)
            and self.account is not None
            and self.account == dest_backend.account
        )

    metadata_kwarg = "Metadata"

    def uploads_natively(self) -> bool:
        # upload_file below is upload_file_async run on the client's loop
        return type(self).upload_file is S3Backend.upload_file

    def upload_file(self, os_path: str, path: str) -> str | None:
        """A local file goes up natively: one PUT, or ``part_concurrency`` parts of
        ``part_size`` in flight, each read from the file as it is sent (memory: a few
        small buffers per part, not the parts); its modification time is kept
        as ``x-amz-meta-mtime`` (rclone reads it; S3 listings do not carry it)."""
        self._check_file_write(path)
        full = self._full(path)
        sync(self.fs.loop, self._upload_async, os_path, full)
        self._invalidate(path)
        return None

    def download_file(self, path: str, os_path: str) -> None:
        """Objects over ``part_size`` come as ``download_concurrency`` ranged GETs at once,
        each written in place as it arrives (memory: a few read buffers per range, not
        the ranges); smaller ones, or ``download_concurrency: 1``, as one streaming GET
        (:mod:`._s3download`)."""
        sync(self.fs.loop, self._download_async, self._full(path), os_path)

    async def _download_async(self, full: str, os_path: str, size: int | None = None) -> None:
        """Coroutine twin of :meth:`download_file` (``size``: the listing's, when known)."""
        fs = self.fs
        bucket, key, version = fs.split_path(full)
        fixed: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version:
            fixed["VersionId"] = version

        async def get_object(**kwargs: Any) -> dict[str, Any]:
            answer: dict[str, Any] = await fs._call_s3("get_object", **fixed, **kwargs)
            return answer

        await self._ranged_download(get_object, full, os_path).run(size)

    def _ranged_download(self, get_object: Any, full: str, os_path: str) -> RangedDownload:
        """A download of ``full`` into ``os_path`` with the mount's network settings,
        each GetObject sent by ``get_object`` (botocore's, or obstore's)."""
        return RangedDownload(
            get_object,
            os_path,
            label=f"{self.describe()}: {self._rel(full)!r}",
            concurrency=self.network.download_concurrency,
            threshold=self.network.multipart_threshold,
            min_piece=self.network.part_size,
            attempts=self.network.retries + 1,
        )

    def _put_kwargs(self, full: str, content_type: str | None = None) -> dict[str, Any]:
        params = self.object_parameters
        kwargs: dict[str, Any] = {
            _S3_HEADERS[k]: v for k, v in params.for_object(full, content_type).items()
        }
        if params.metadata:
            kwargs["Metadata"] = dict(params.metadata)
        return kwargs

    def url(
        self, path: str, expires_in: int = 3600, http_method: str | None = None, **kwargs: Any
    ) -> str | None:
        """A presigned GET URL valid ``expires_in`` seconds.

        ``kwargs`` are GetObject parameters (``ResponseContentDisposition``...);
        ``http_method`` signs the URL for another method (as boto3's ``HttpMethod``).
        """
        if not http_method:
            return str(self.fs.sign(self._full(path), expiration=expires_in, **kwargs))
        from fsspec.asyn import sync

        async def presign() -> str:
            await self.fs.set_session()
            client = await self.fs.get_s3(self.bucket)
            return str(
                await client.generate_presigned_url(
                    ClientMethod="get_object",
                    Params={"Bucket": self.bucket, "Key": self._key(path), **kwargs},
                    ExpiresIn=expires_in,
                    HttpMethod=http_method.upper(),
                )
            )

        return str(sync(self.fs.loop, presign))

    def public_url(self, path: str) -> str:
        """The object's unsigned URL (readable when the bucket or object is public)."""
        endpoint = self.fs.client_kwargs.get("endpoint_url") or getattr(
            self.fs, "endpoint_url", None
        )
        key = quote(self._key(path))
        if endpoint:
            return f"{str(endpoint).rstrip('/')}/{self.bucket}/{key}"
        return f"https://{self.bucket}.s3.amazonaws.com/{key}"


#: bodies from this size on keep botocore's ``Expect: 100-continue`` (the AWS Go SDK's
#: threshold): the server may refuse them before they are sent
EXPECT_CONTINUE_MIN = 2 * MiB


def _drop_small_expect(params: dict[str, Any], **_: Any) -> None:
    """Remove ``Expect: 100-continue`` from a request with a small body.

    botocore adds it to every PUT/POST whose body is file-like (every PutObject: it wraps
    bytes in a file), and aiohttp then sends the headers, waits for the server's
    ``100 Continue`` and only then the body: one more round trip per small file, for
    nothing (the header is not signed).
    """
    headers = params.get("headers") or {}
    if headers.get("Expect") != "100-continue":
        return
    body = params.get("body")
    size = _body_size(body)
    if size is not None and size < EXPECT_CONTINUE_MIN:
        del headers["Expect"]


def _body_size(body: Any) -> int | None:
    if isinstance(body, (bytes, bytearray, memoryview)):
        return len(body)
    if isinstance(body, FileSection):  # a part read from the file as it is sent
        return body.remaining
    getbuffer = getattr(body, "getbuffer", None)  # io.BytesIO: botocore's wrapper of bytes
    if getbuffer is not None:
        return int(getbuffer().nbytes - body.tell())
    try:  # a file streamed from disk (uploads under multipart_threshold)
        return int(os.fstat(body.fileno()).st_size - body.tell())
    except (AttributeError, OSError, ValueError):
        return None


def s3_session(mount_name: str) -> Any:
    """The aiobotocore session of an S3 mount: requests logged (``_requestlog``), small
    bodies sent without waiting for ``100 Continue``, timestamps parsed without dateutil
    (``_timestamps``), the S3 model loaded without a scan of every service's folder
    (``_botoload``)."""
    from ._botoload import use_service_loader

    session = logging_session(mount_name)
    use_service_loader(session)
    session.get_component("event_emitter").register_last("before-call.s3", _drop_small_expect)
    # Last-Modified of every GET/HEAD and every listing entry, without dateutil
    session.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=parse_timestamp
    )
    return session


def _copy_source_too_large(exc: BaseException) -> bool:
    """S3's answer to a CopyObject over 5 GiB (``InvalidRequest``, "copy source is larger
    than the maximum allowable size")."""
    seen: BaseException | None = exc
    while seen is not None:
        if "copy source is larger" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


#: botocore's connection cap (its default is 10). The async API lets callers put any
#: number of requests in flight (``asyncio.gather``): under the cap they would queue for a
#: connection, a round trip each time on a server that closes connections (moto).
#: 100 is aiohttp's own default; connections are opened only when needed.
POOL_CONNECTIONS = 100


def _pool_size(network: NetworkSettings) -> int:
    """Connections botocore may open: at least :data:`POOL_CONNECTIONS`, and one per copy
    worker (16) and per part in flight."""
    return max(
        POOL_CONNECTIONS, 16 + 2 * max(network.part_concurrency, network.download_concurrency)
    )


def _user_agent() -> str:
    """A fixed User-Agent for every request of the mount. Without one, botocore rebuilds
    its own from about 30 parts (each cleaned character by character) twice per request:
    about a tenth of the client's CPU on small files."""
    import platform

    import aiobotocore
    import botocore

    return (
        f"genro-storage aiobotocore/{aiobotocore.__version__} "
        f"botocore/{botocore.__version__} Python/{platform.python_version()}"
    )


def _plain_http(config: dict[str, Any]) -> bool:
    """An ``http://`` endpoint reached without a proxy (no certificate anywhere)."""
    endpoint = str(config.get("endpoint_url") or "")
    if not endpoint.lower().startswith("http://"):
        return False
    if (config.get("config_kwargs") or {}).get("proxies"):
        return False
    import urllib.request

    return "http" not in urllib.request.getproxies()


def _checksums(config: dict[str, Any]) -> dict[str, Any]:
    """No CRC32 of upload bodies where SigV4 already signs them (an ``http://`` endpoint).

    botocore signs the SHA-256 of every body sent over plain HTTP (the server checks
    it), and by default also computes a CRC32 of it for a checksum header: a second pass
    over the whole file before its first byte leaves (0.023 s per 100 MiB, with the read,
    a fifth of the upload's client CPU). Over HTTPS the body goes unsigned and the CRC32
    is its integrity check: kept. A mount that turns payload signing off keeps it too.
    """
    endpoint = str(config.get("endpoint_url") or "")
    own = config.get("config_kwargs") or {}
    signs_payload = (own.get("s3") or {}).get("payload_signing_enabled") is not False
    if endpoint.lower().startswith("http://") and signs_payload:
        return {"request_checksum_calculation": "when_required"}
    return {}


def _client(config: dict[str, Any], mount_name: str) -> str:
    """The mount's ``client`` key: ``'botocore'`` (default) or ``'obstore'`` (installed)."""
    client = config.get("client") or "botocore"
    if client not in ("botocore", "obstore"):
        raise StorageConfigError(
            f"Mount '{mount_name}': 'client' must be 'botocore' or 'obstore', not {client!r}"
        )
    if client == "obstore":
        try:
            import obstore  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(
                f"Mount '{mount_name}' has 'client: obstore', which needs the 'obstore' "
                f"package ({exc}). Fix: pip install 'genro-storage[obstore]'"
            ) from exc
    return str(client)


def create(config: dict[str, Any], mount_name: str) -> S3Backend:
    import s3fs

    network = NetworkSettings.from_config(config, mount_name, S3Backend.min_part_size)
    if config.get("part_concurrency") is None:
        network = dataclasses.replace(network, part_concurrency=S3_PART_CONCURRENCY)
    if config.get("download_concurrency") is None:
        network = dataclasses.replace(network, download_concurrency=S3_DOWNLOAD_CONCURRENCY)
    options: dict[str, Any] = {
        "version_aware": bool(config.get("version_aware", False)),
        "skip_instance_cache": True,
        "use_listings_cache": False,
    }
    for name in ("anon", "key", "secret", "token", "endpoint_url"):
        if config.get(name) is not None:
            options[name] = config[name]
    client_kwargs = dict(config.get("client_kwargs") or {})
    if config.get("region"):
        client_kwargs["region_name"] = config["region"]
    if _plain_http(config):
        # no TLS to verify: botocore would still load the CA bundle (~70 ms of CPU in a
        # fresh process, before the first request could leave)
        client_kwargs.setdefault("verify", False)
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    # presigned URLs use Signature V4 (AWS stopped accepting V2 in new regions)
    # botocore retries failed requests (connection errors, 429/5xx, SlowDown) with
    # exponential backoff and jitter; its pool holds a connection per copy worker and part
    options["config_kwargs"] = {
        "signature_version": "s3v4",
        # botocore counts retries here (max_attempts 1: two attempts in all)
        "retries": {"max_attempts": network.retries, "mode": "standard"},
        "connect_timeout": network.connect_timeout,
        "read_timeout": network.timeout,
        "max_pool_connections": _pool_size(network),
        "user_agent": _user_agent(),
        **_checksums(config),
        **(config.get("config_kwargs") or {}),
    }

    def tuned(fs: Any) -> Any:
        fs.retries = network.retries + 1  # s3fs' own attempts: body reads, SlowDown
        return fs

    def connect() -> Any:
        return tuned(s3fs.S3FileSystem(**options, session=s3_session(mount_name)))

    def connect_versioned() -> Any:
        versioned = {**options, "version_aware": True}
        return tuned(s3fs.S3FileSystem(**versioned, session=s3_session(mount_name)))

    args = (connect, str(config["bucket"]), str(config.get("prefix") or ""), mount_name)
    backend: S3Backend
    if _client(config, mount_name) == "obstore":
        from . import _obstore
        from .s3obstore import ObstoreS3Backend

        holder = _obstore.StoreHolder(lambda: _obstore.build_store(config, network), mount_name)
        backend = ObstoreS3Backend(
            *args, versions_fs=connect_versioned, network=network, store=holder
        )
    else:
        backend = S3Backend(*args, versions_fs=connect_versioned, network=network)
    backend.account = tuple(
        repr(config.get(name))
        for name in ("endpoint_url", "key", "secret", "token", "anon", "region", "client_kwargs")
    )
    backend.object_parameters = parse_object_parameters(config.get("object_parameters"), mount_name)
    return backend
