"""The dependency cache: node_modules keyed by what decides its contents.

An entry is a complete node_modules tree, stored once and never changed: its
files are made read-only and owned by root, so a build (uid 1000 in its
container) can add files beside them but never write into them. A hit
restores the tree as hard links — directories are new, file contents are
shared — so it costs one link per file whatever the size. Entries appear by
an atomic rename, with their metadata inside; anything else in the store is
a half-written leftover and is ignored and removed.
"""

import hashlib
import json
import os
import shutil
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

META = "slipway-cache.json"
KEY_FIELDS = (
    "runner",
    "node_version",
    "package_manager",
    "package_manager_major",
    "lock_sha256",
    "root_dir",
)
REASONS = {
    "lock_sha256": "lock file changed",
    "node_version": "Node.js version changed",
    "package_manager": "package manager changed",
    "package_manager_major": "package manager version changed",
    "root_dir": "root directory changed",
    "runner": "runner changed",
}


@dataclass(frozen=True)
class CacheKey:
    components: dict[str, str]

    @property
    def digest(self) -> str:
        text = json.dumps(self.components, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def short(self) -> str:
        return self.digest[:12]


def cache_key(
    runner: str,
    node_version: str | None,
    package_manager: str,
    package_manager_major: str,
    lock_file: Path,
    root_dir: str | None,
) -> CacheKey:
    """Every input that can change what an install produces is part of the key."""
    return CacheKey(
        {
            "runner": runner,
            "node_version": node_version or "default",
            "package_manager": package_manager,
            "package_manager_major": package_manager_major,
            "lock_sha256": hashlib.sha256(lock_file.read_bytes()).hexdigest(),
            "root_dir": (root_dir or "").strip("/"),
        }
    )


@dataclass(frozen=True)
class Restored:
    files: int
    bytes: int
    seconds: float


class ModulesCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.entries = self.root / "modules"
        self.projects = self.root / "projects"

    # --- lookup and restore --------------------------------------------------

    def entry(self, key: CacheKey) -> Path | None:
        """The complete entry for `key`, or None; a broken one is removed."""
        folder = self.entries / key.digest
        if not folder.is_dir():
            return None
        if not (folder / META).is_file() or not (folder / "node_modules").is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return folder

    def restore(self, key: CacheKey, target: Path) -> Restored | None:
        """Recreate node_modules at `target` as hard links to the entry."""
        folder = self.entry(key)
        if folder is None:
            return None
        started = time.monotonic()
        meta = json.loads((folder / META).read_text())
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["cp", "-al", str(folder / "node_modules"), str(target)],
            capture_output=True,
            timeout=600,
        )
        if result.returncode != 0:  # evicted under us: a miss, not an error
            shutil.rmtree(target, ignore_errors=True)
            return None
        os.utime(folder / META)  # last used, for eviction
        return Restored(meta["files"], meta["bytes"], time.monotonic() - started)

    # --- store ---------------------------------------------------------------

    def store(self, key: CacheKey, node_modules: Path, project_id: int) -> Path | None:
        """Move a fresh node_modules into the store and link it back; None if it exists."""
        if self.entry(key) is not None:
            return None
        staging = self.entries / f".{key.digest}.{uuid.uuid4().hex}.partial"
        staging.mkdir(parents=True)
        try:
            node_modules.rename(staging / "node_modules")
            files, size = _seal(staging / "node_modules")
            meta = {
                "key": key.components,
                "files": files,
                "bytes": size,
                "created": time.time(),
                "projects": [project_id],
            }
            (staging / META).write_text(json.dumps(meta))
            staging.rename(self.entries / key.digest)
        except OSError:  # another file system, or another build stored it first
            if (staging / "node_modules").is_dir() and not node_modules.exists():
                (staging / "node_modules").rename(node_modules)
            shutil.rmtree(staging, ignore_errors=True)
            return None
        return self.entries / key.digest

    # --- what the project page shows -----------------------------------------

    def record(self, project_id: int, key: CacheKey, outcome: str, reason: str) -> None:
        self.projects.mkdir(parents=True, exist_ok=True)
        path = self.projects / f"{project_id}.json"
        data = {
            "key": key.components,
            "digest": key.digest,
            "outcome": outcome,
            "reason": reason,
            "at": time.time(),
        }
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(data))
        tmp.rename(path)
        self._remember_project(key, project_id)

    def last(self, project_id: int) -> dict | None:
        path = self.projects / f"{project_id}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def miss_reason(self, project_id: int, key: CacheKey) -> str:
        """Why `key` has no entry, said in the terms of what changed since last time."""
        previous = self.last(project_id)
        if previous is None:
            return "no entry"
        changed = [
            REASONS[k] for k in KEY_FIELDS if previous["key"].get(k) != key.components.get(k)
        ]
        return ", ".join(changed) if changed else "no entry (evicted or cleared)"

    def project_usage(self, project_id: int) -> tuple[int, int]:
        """(entries, bytes) of the entries this project has used."""
        count = size = 0
        for meta in self._metas():
            if project_id in meta["projects"]:
                count += 1
                size += meta["bytes"]
        return count, size

    # --- eviction ------------------------------------------------------------

    def clear_project(self, project_id: int) -> tuple[int, int]:
        """Remove every entry the project has used, and its record."""
        removed = freed = 0
        for folder, meta in self._entries_with_meta():
            if project_id in meta["projects"]:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
                freed += meta["bytes"]
        (self.projects / f"{project_id}.json").unlink(missing_ok=True)
        return removed, freed

    def evict(self, max_bytes: int, max_age_seconds: float) -> list[str]:
        """Drop entries unused for max_age, then least recently used ones above max_bytes."""
        now = time.time()
        entries = sorted(
            self._entries_with_meta(), key=lambda item: (item[0] / META).stat().st_mtime
        )
        removed, kept, total = [], [], 0
        for folder, meta in entries:
            if now - (folder / META).stat().st_mtime > max_age_seconds:
                removed.append(folder)
            else:
                kept.append((folder, meta))
                total += meta["bytes"]
        for folder, meta in kept:  # oldest use first
            if total <= max_bytes:
                break
            removed.append(folder)
            total -= meta["bytes"]
        for folder in removed:
            shutil.rmtree(folder, ignore_errors=True)
        for leftover in self.entries.glob(".*.partial"):
            if now - leftover.stat().st_mtime > 3600:  # a store that died midway
                shutil.rmtree(leftover, ignore_errors=True)
        return [folder.name for folder in removed]

    def _entries_with_meta(self):
        if not self.entries.is_dir():
            return
        for folder in self.entries.iterdir():
            if folder.name.startswith("."):
                continue
            try:
                yield folder, json.loads((folder / META).read_text())
            except (OSError, ValueError):
                continue

    def _metas(self):
        return (meta for _folder, meta in self._entries_with_meta())

    def _remember_project(self, key: CacheKey, project_id: int) -> None:
        folder = self.entry(key)
        if folder is None:
            return
        meta = json.loads((folder / META).read_text())
        if project_id not in meta["projects"]:
            meta["projects"].append(project_id)
            tmp = folder / f".{uuid.uuid4().hex}.tmp"
            tmp.write_text(json.dumps(meta))
            tmp.rename(folder / META)


def _seal(tree: Path) -> tuple[int, int]:
    """Make every file read-only and root's, so no build can write into it; count them."""
    files = size = 0
    for folder, dirs, names in os.walk(tree):
        os.lchown(folder, 0, 0)
        for name in dirs + names:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            os.lchown(path, 0, 0)
            if stat.S_ISREG(info.st_mode):
                os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o222)
                files += 1
                size += info.st_size
    return files, size


class RemoteTier:
    """A second tier shared by workers on other machines: one compressed archive per key.

    A directory for now (a network mount, say); object storage comes with the
    S3 backend. Archives appear by rename, so a reader never sees half of one.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def archive(self, key: CacheKey) -> Path:
        return self.root / f"{key.digest}.tar.gz"

    def upload(self, entry: Path, key: CacheKey) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.archive(key)
        if target.exists():
            return
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        subprocess.run(
            ["tar", "-czf", str(tmp), "-C", str(entry), "."],
            check=True,
            capture_output=True,
            timeout=1800,
        )
        tmp.rename(target)

    def download(self, key: CacheKey, cache: ModulesCache) -> bool:
        """Unpack the archive for `key` into the local tier; False if there is none."""
        archive = self.archive(key)
        if not archive.is_file():
            return False
        staging = cache.entries / f".{key.digest}.{uuid.uuid4().hex}.partial"
        staging.mkdir(parents=True)
        try:
            subprocess.run(
                ["tar", "-xzf", str(archive), "-C", str(staging)],
                check=True,
                capture_output=True,
                timeout=1800,
            )
            _seal(staging / "node_modules")
            staging.rename(cache.entries / key.digest)
        except (OSError, subprocess.CalledProcessError):
            shutil.rmtree(staging, ignore_errors=True)
            return cache.entry(key) is not None  # another build may have won the race
        return True


def modules_cache() -> ModulesCache:
    """The cache of this installation (needs an app context)."""
    from flask import current_app

    return ModulesCache(Path(current_app.config["CACHE_DIR"]))


def cache_summary(project) -> dict:
    """What the project page and the API show about a project's cache."""
    cache = modules_cache()
    entries, size = cache.project_usage(project.id)
    return {"entries": entries, "bytes": size, "last": cache.last(project.id)}
