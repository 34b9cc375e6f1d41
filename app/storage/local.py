"""Objects as files under a local directory: the embedded default."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from app.storage.errors import StorageError


class LocalObjects:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def describe(self) -> str:
        return "a local directory"

    def put_file(self, key: str, source: Path, **_metadata) -> None:
        """Copy a file in under a temporary name, then rename it into place."""
        with open(source, "rb") as handle:
            self._write(key, lambda out: shutil.copyfileobj(handle, out, 1 << 20))

    def put_bytes(self, key: str, data: bytes, **_metadata) -> None:
        # Content type and caching live in the manifest; files carry no metadata.
        self._write(key, lambda out: out.write(data))

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except OSError as exc:
            raise StorageError(f"Cannot read {key}: {exc.strerror}.") from exc

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_file():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)

    def _write(self, key: str, fill) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
            try:
                with os.fdopen(descriptor, "wb") as out:
                    fill(out)
                os.replace(temporary, target)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        except OSError as exc:
            raise StorageError(f"Cannot write {key}: {exc.strerror}.") from exc

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"Refusing a key outside the storage directory: {key!r}.")
        return path
