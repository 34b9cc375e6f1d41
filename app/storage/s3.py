"""Objects in an S3-compatible bucket through boto3.

Covers AWS S3, MinIO, SeaweedFS, Cloudflare R2 and Alibaba Cloud OSS (through
its S3-compatible endpoint, with virtual-hosted addressing). Credentials come
from the usual AWS variables or files, never from the URL.
"""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qs, urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.errors import StorageError

# Files are uploaded in parallel already; each one goes up in a single thread,
# in parts only when it is large.
_TRANSFER = TransferConfig(use_threads=False, multipart_threshold=32 * 1024**2)
_MISSING = ("NoSuchKey", "404", "NotFound")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    addressing: str

    @classmethod
    def parse(cls, url: str) -> "S3Location":
        parts = urlsplit(url)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint", "region", "addressing"}
        if parts.scheme != "s3" or not parts.netloc or unknown:
            raise StorageError(
                "STORAGE_URL must look like s3://BUCKET/PREFIX?endpoint=URL&region=NAME"
                "&addressing=path|virtual (credentials go in AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, not in the URL)."
            )
        addressing = query.get("addressing", "path" if query.get("endpoint") else "virtual")
        prefix = parts.path.strip("/")
        return cls(
            bucket=parts.netloc,
            prefix=prefix + "/" if prefix else "",
            endpoint=query.get("endpoint"),
            region=query.get("region"),
            addressing=addressing,
        )


class S3Objects:
    def __init__(self, url: str, retries: int = 4, pool: int = 32):
        self.location = S3Location.parse(url)
        config = BotoConfig(
            # "standard" retries transient errors (5xx, throttling, resets)
            # with exponential backoff and jitter.
            retries={"max_attempts": retries, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=pool,
            s3={"addressing_style": self.location.addressing},
        )
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.location.endpoint,
            region_name=self.location.region,
            config=config,
        )

    def describe(self) -> str:
        where = f" at {self.location.endpoint}" if self.location.endpoint else ""
        return f"s3://{self.location.bucket}/{self.location.prefix}{where}"

    def put_file(self, key: str, source: Path, **metadata) -> None:
        extra = _extra_args(**metadata)
        self._call(
            "upload",
            key,
            self.client.upload_file,
            str(source),
            self.location.bucket,
            self._key(key),
            ExtraArgs=extra,
            Config=_TRANSFER,
        )

    def put_bytes(self, key: str, data: bytes, **metadata) -> None:
        args = _extra_args(**metadata)
        self._call(
            "upload",
            key,
            self.client.put_object,
            Bucket=self.location.bucket,
            Key=self._key(key),
            Body=data,
            **args,
        )

    def get_bytes(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            return response["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise StorageError(_explain("read", key, exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(_explain("read", key, exc)) from exc

    def open(self, key: str) -> BinaryIO:
        return io.BufferedReader(_RangedReader(self, self._key(key)), buffer_size=64 * 1024)

    def delete_prefix(self, prefix: str) -> None:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.location.bucket, Prefix=self._key(prefix)
        )
        try:
            for page in pages:
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(
                        Bucket=self.location.bucket, Delete={"Objects": keys, "Quiet": True}
                    )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(_explain("delete", prefix, exc)) from exc

    def check(self) -> None:
        """Fail with a clear message unless the bucket can be reached with these credentials."""
        self._call("reach", "", self.client.head_bucket, Bucket=self.location.bucket)

    def _key(self, key: str) -> str:
        return self.location.prefix + key

    def _call(self, verb: str, key: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(_explain(verb, key, exc)) from exc
        except Exception as exc:  # s3transfer wraps client errors in its own types
            if isinstance(exc.__cause__, ClientError | BotoCoreError):
                raise StorageError(_explain(verb, key, exc.__cause__)) from exc
            raise


def _extra_args(content_type=None, cache_control=None, content_encoding=None) -> dict:
    args = {"ContentType": content_type or "application/octet-stream"}
    if cache_control:
        args["CacheControl"] = cache_control
    if content_encoding:
        args["ContentEncoding"] = content_encoding
    return args


def _explain(verb: str, key: str, exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        detail = f"{error.get('Code', 'Error')}: {error.get('Message') or 'no message'}"
    else:
        detail = str(exc)
    return f"Object storage could not {verb} {key or 'the bucket'} ({detail})."


class _RangedReader(io.RawIOBase):
    """A seekable view of one object: each read after a seek is one ranged GET.

    Lets the site server answer Range requests without downloading the parts
    of a large file it does not send.
    """

    def __init__(self, objects: S3Objects, key: str):
        self.objects, self.key = objects, key
        self.position = 0
        self.body = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks")
        if offset != self.position:
            self._drop_body()
            self.position = offset
        return self.position

    def readinto(self, buffer) -> int:
        if self.body is None:
            self.body = self._get()
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def _get(self):
        location = self.objects.location
        try:
            response = self.objects.client.get_object(
                Bucket=location.bucket, Key=self.key, Range=f"bytes={self.position}-"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return io.BytesIO(b"")
            raise StorageError(_explain("read", self.key, exc)) from exc
        except BotoCoreError as exc:
            raise StorageError(_explain("read", self.key, exc)) from exc
        return response["Body"]

    def _drop_body(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None

    def close(self) -> None:
        self._drop_body()
        super().close()
