"""Published deployments in a local directory, one immutable folder each."""

import shutil
import uuid
from pathlib import Path


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.deployments = self.root / "deployments"

    def publish(self, deployment_id: int, source: Path) -> None:
        """Copy `source` in under a temporary name, then rename: all or nothing."""
        self.deployments.mkdir(parents=True, exist_ok=True)
        staging = self.deployments / f".{deployment_id}.{uuid.uuid4().hex}.partial"
        try:
            shutil.copytree(source, staging, symlinks=True)
            staging.rename(self._folder(deployment_id))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def delete(self, deployment_id: int) -> None:
        shutil.rmtree(self._folder(deployment_id), ignore_errors=True)

    def exists(self, deployment_id: int) -> bool:
        return self._folder(deployment_id).is_dir()

    def file(self, deployment_id: int, relative: str) -> Path | None:
        """Return the published regular file at `relative`, or None; never leaves the folder."""
        folder = self._folder(deployment_id).resolve()
        path = (folder / relative).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return None
        return path

    def _folder(self, deployment_id: int) -> Path:
        return self.deployments / str(int(deployment_id))
