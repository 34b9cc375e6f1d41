"""Published deployments on any object store: immutable prefixes, manifest last.

    deployments/<id>/files/<path>     each file, with its content type and caching
    deployments/<id>/gzip/<path>      a precompressed variant of large text files
    deployments/<id>/manifest.json    written last: a deployment without it is not live
    aliases/<slug>.json               which deployment is live, for a proxy or CDN in front

Nothing here modifies a published deployment; going live is a pointer swap in
the database (and the alias record, rewritten afterwards).
"""

import contextlib
import gzip
import json
import threading
from collections import OrderedDict
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import BinaryIO

from app import site_rules
from app.storage import manifest as manifests
from app.storage.errors import PublishCancelled, StorageError
from app.storage.manifest import Entry, Manifest

RULE_FILES = ("_headers", "_redirects")
GZIP_MAX_BYTES = 32 * 1024**2  # compressed in memory; larger text files go up as they are


def prefix(deployment_id: int) -> str:
    return f"deployments/{int(deployment_id)}/"


def build_manifest(deployment_id: int, source: Path) -> Manifest:
    """Describe the output directory; raise RuleError for a malformed rules file."""
    manifest = Manifest(deployment_id)
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        if not path.is_file() or relative in RULE_FILES:
            continue
        mime = manifests.content_type(relative)
        manifest.files[relative] = Entry(
            size=path.stat().st_size,
            sha256=manifests.sha256_of(path),
            type=mime,
            cache=manifests.cache_control(relative, mime),
        )
    if (source / "_headers").is_file():
        manifest.headers = site_rules.parse_headers(_read_text(source / "_headers"))
    if (source / "_redirects").is_file():
        manifest.redirects = site_rules.parse_redirects(_read_text(source / "_redirects"))
    return manifest


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise site_rules.RuleError(path.name, 1, "the file is not UTF-8 text.") from exc


class DeploymentStore:
    def __init__(self, objects, threads: int = 8):
        self.objects = objects
        self.threads = threads
        self._manifests = _Lru(512)

    def describe(self) -> str:
        return self.objects.describe()

    def publish(self, manifest: Manifest, source: Path, cancel: threading.Event | None = None):
        """Upload every file, then the manifest; on any failure remove what went up."""
        base = prefix(manifest.deployment_id)
        try:
            self._upload_files(manifest, source, base, cancel or threading.Event())
            self.objects.put_bytes(
                base + "manifest.json",
                manifest.to_json(),
                content_type="application/json",
                cache_control="no-cache",
            )
        except BaseException:
            self._delete_quietly(manifest.deployment_id)
            raise

    def _upload_files(self, manifest: Manifest, source: Path, base: str, cancel) -> None:
        failing = threading.Event()  # one upload failed: the others need not start

        def upload(relative: str) -> None:
            if cancel.is_set() or failing.is_set():
                raise PublishCancelled()
            entry = manifest.files[relative]
            self._upload_one(source / relative, base, relative, entry)

        with ThreadPoolExecutor(self.threads, thread_name_prefix="upload") as pool:
            futures = [pool.submit(upload, relative) for relative in manifest.files]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in done if f.exception()), None)
            if failed is not None:
                failing.set()
                for future in futures:
                    future.cancel()
                raise failed.exception()

    def _upload_one(self, path: Path, base: str, relative: str, entry: Entry) -> None:
        metadata = {"content_type": entry.type, "cache_control": entry.cache}
        self.objects.put_file(base + "files/" + relative, path, **metadata)
        if manifests.GZIP_MIN_BYTES <= entry.size <= GZIP_MAX_BYTES and manifests.is_compressible(
            entry.type
        ):
            packed = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
            if len(packed) < entry.size * 0.9:  # not worth a second object otherwise
                self.objects.put_bytes(
                    base + "gzip/" + relative, packed, content_encoding="gzip", **metadata
                )
                entry.gzip_size = len(packed)

    def manifest(self, deployment_id: int) -> Manifest | None:
        """The deployment's manifest, or None while it is unpublished (or deleted)."""
        cached = self._manifests.get(deployment_id)
        if cached is not None:
            return cached
        raw = self.objects.get_bytes(prefix(deployment_id) + "manifest.json")
        if raw is None:
            return None
        found = Manifest.from_json(raw)
        self._manifests.put(deployment_id, found)  # immutable, so safe to keep
        return found

    def exists(self, deployment_id: int) -> bool:
        return self.manifest(deployment_id) is not None

    def open(self, deployment_id: int, relative: str, compressed: bool = False) -> BinaryIO:
        variant = "gzip/" if compressed else "files/"
        return self.objects.open(prefix(deployment_id) + variant + relative)

    def delete(self, deployment_id: int) -> None:
        """Remove a deployment: the manifest first, so it stops being served at once."""
        self._manifests.pop(deployment_id)
        self.objects.delete_prefix(prefix(deployment_id) + "manifest.json")
        self.objects.delete_prefix(prefix(deployment_id))

    def _delete_quietly(self, deployment_id: int) -> None:
        # Without a manifest nothing serves these objects; if the storage is
        # failing too badly to delete them, they only cost space.
        with contextlib.suppress(StorageError):
            self.delete(deployment_id)

    def write_alias(self, slug: str, deployment_id: int | None) -> None:
        """Record which deployment is live, for servers that read the bucket directly."""
        record = {"deployment_id": deployment_id}
        if deployment_id is not None:
            record["prefix"] = prefix(deployment_id)
        self.objects.put_bytes(
            f"aliases/{slug}.json",
            json.dumps(record).encode(),
            content_type="application/json",
            cache_control="no-cache",
        )

    def delete_alias(self, slug: str) -> None:
        self.objects.delete_prefix(f"aliases/{slug}.json")

    def read_alias(self, slug: str) -> dict | None:
        raw = self.objects.get_bytes(f"aliases/{slug}.json")
        return None if raw is None else json.loads(raw)


class _Lru:
    """A small thread-safe LRU map: manifests are read on every site request."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def pop(self, key) -> None:
        with self.lock:
            self.items.pop(key, None)
