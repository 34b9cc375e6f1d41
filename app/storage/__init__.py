"""Where published deployments live: a local directory (the default) or an S3 bucket."""

import threading

from app.storage.deployments import DeploymentStore, build_manifest
from app.storage.errors import PublishCancelled, StorageError
from app.storage.local import LocalObjects

_stores: dict[tuple, DeploymentStore] = {}
_lock = threading.Lock()


def make_storage(config) -> DeploymentStore:
    """The store for this configuration, made once per process (it caches manifests)."""
    url = config.get("STORAGE_URL")
    key = (url or str(config["STORAGE_DIR"]), config.get("STORAGE_UPLOAD_THREADS", 8))
    with _lock:
        if key not in _stores:
            _stores[key] = DeploymentStore(_objects(config), threads=key[1])
        return _stores[key]


def _objects(config):
    url = config.get("STORAGE_URL")
    if url and url.startswith("s3://"):
        from app.storage.s3 import S3Objects  # boto3 loads only when it is used

        return S3Objects(url, retries=config.get("STORAGE_RETRIES", 4))
    if url:
        raise StorageError(
            f"STORAGE_URL must start with s3:// (it starts with {url.split(':')[0]!r}). "
            "Leave it unset to keep sites in STORAGE_DIR."
        )
    return LocalObjects(config["STORAGE_DIR"])


__all__ = ["DeploymentStore", "PublishCancelled", "StorageError", "build_manifest", "make_storage"]
