"""Where published deployments live. The local directory is the embedded default."""

from app.storage.local import LocalStorage


def make_storage(config) -> LocalStorage:
    return LocalStorage(config["STORAGE_DIR"])


__all__ = ["LocalStorage", "make_storage"]
