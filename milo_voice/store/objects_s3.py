"""`S3Objects`: the `ObjectStore` of any S3-compatible service, through boto3 (docs/storage.md).

boto3 is the maintained reference client of the S3 protocol: path-style addressing and a custom endpoint
(`MILO_S3_ENDPOINT_URL`) reach MinIO, Ceph RGW, Garage, R2 and the like as well as AWS. Checksums are
sent and checked only where the protocol requires them, which S3-compatible servers that predate AWS's
2025 default checksums accept. Uploads above 16 MB go in multipart pieces. Each call is retried by
botocore (standard mode, 3 attempts) before `StorageError` says what failed and what to check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from botocore.exceptions import ConnectionError as BotoConnectionError

from milo_voice.store.objects import CHUNK, ObjectInfo, ObjectMissing, StorageError, clean_key

log = logging.getLogger(__name__)

MULTIPART_BYTES = 16 * 1024 * 1024
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0
DENIED = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "403"}
)
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Objects:
    """Objects under `s3://bucket/prefix/` of the S3-compatible service at `endpoint_url` (None: AWS)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url = endpoint_url
        config = Config(
            region_name=region or None,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self.client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        self.transfer = TransferConfig(
            multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES, max_concurrency=2
        )

    def _name(self, key: str) -> str:
        key = clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _key(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def where(self) -> str:
        base = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{base} at {self.endpoint_url or 'AWS'}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def key_of(self, uri: str) -> str:
        """The key of a `uri(...)` this store made; StorageError when it names another bucket or prefix."""
        head = f"s3://{self.bucket}/" + (f"{self.prefix}/" if self.prefix else "")
        if not uri.startswith(head):
            raise StorageError(
                f"{uri} is not in the configured store ({self.where()}): check MILO_STORAGE_URL"
            )
        return clean_key(uri[len(head) :])

    def put_file(self, key: str, path: Path) -> int:
        name = self._name(key)
        try:
            self.client.upload_file(str(path), self.bucket, name, Config=self.transfer)
        except Exception as exc:  # boto3's S3UploadFailedError wraps the ClientError
            raise self._error("upload", name, exc) from exc
        return self.size(key)

    def put_bytes(self, key: str, data: bytes) -> int:
        name = self._name(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("upload", name, exc) from exc
        return len(data)

    def read_all(self, key: str) -> bytes:
        name = self._name(key)
        try:  # no Range header: an empty object reads as b"" rather than 416
            return b"".join(_stream(self.client.get_object(Bucket=self.bucket, Key=name)["Body"]))
        except (ClientError, BotoCoreError) as exc:  # also a connection broken mid-body
            raise self._error("read", name, exc) from exc

    def read_range(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        if length == 0:
            return iter(())
        name = self._name(key)
        wanted = f"bytes={start}-" + ("" if length is None else str(start + length - 1))
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=name, Range=wanted)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("read", name, exc) from exc
        return _stream(answer["Body"])

    def size(self, key: str) -> int:
        name = self._name(key)
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=name)["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise self._error("look up", name, exc) from exc

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectMissing:
            return False
        return True

    def delete(self, key: str) -> int:
        try:
            size = self.size(key)
        except ObjectMissing:
            return 0
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (ClientError, BotoCoreError) as exc:
            raise self._error("delete", name, exc) from exc
        return size

    def list_prefix(self, prefix: str) -> list[ObjectInfo]:
        start = self._name(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        if prefix.endswith("/") and not start.endswith("/"):
            start += "/"
        found: list[ObjectInfo] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            ):
                found += [ObjectInfo(self._key(o["Key"]), int(o["Size"])) for o in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list", start, exc) from exc
        return sorted(found, key=lambda info: info.key)

    def _error(self, action: str, name: str, exc: Exception) -> StorageError:
        """A StorageError that says what failed and what to check; logged without any secret."""
        inner = exc.__cause__ or exc.__context__  # boto3's S3UploadFailedError wraps the real one
        cause = inner if isinstance(inner, ClientError | BotoCoreError) else exc
        where = f"s3://{self.bucket}/{name}"
        if isinstance(cause, ClientError):
            code = str(cause.response.get("Error", {}).get("Code", ""))
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in MISSING or (status == 404 and code != "NoSuchBucket"):
                return ObjectMissing(f"no object {where}")
            if code in DENIED or status == 403:
                message = (
                    f"cannot {action} {where}: the store refused the credentials ({code}); check "
                    "MILO_S3_ACCESS_KEY_ID, MILO_S3_SECRET_ACCESS_KEY and the key's permissions"
                )
            elif code == "NoSuchBucket":
                message = f"cannot {action} {where}: no bucket {self.bucket!r} at {self.where()}"
            else:
                message = f"cannot {action} {where}: the store answered {code or status}"
        elif isinstance(cause, EndpointConnectionError | BotoConnectionError):
            message = (
                f"cannot {action} {where}: the store at {self.endpoint_url or 'AWS'} cannot be "
                "reached; check MILO_S3_ENDPOINT_URL and that the service is up"
            )
        else:
            message = f"cannot {action} {where}: {type(cause).__name__}: {cause}"
        log.warning("storage.error", extra={"action": action, "object": where, "error": message})
        return StorageError(message)


def _stream(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()
