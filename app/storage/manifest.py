"""The manifest: what a deployment contains, written last so its presence means complete.

It lists every served file with its size, sha256, content type and caching
rule, plus the parsed `_headers` and `_redirects` rules. The site server
answers from it alone (a path not in it does not exist), and a proxy or CDN
in front of the bucket can do the same.
"""

import hashlib
import json
import mimetypes
import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath

MANIFEST_VERSION = 1

# Text worth precompressing; images, fonts and archives are compressed already.
_COMPRESSIBLE = re.compile(
    r"^(text/|application/(javascript|json|xml|wasm|manifest\+json|ld\+json)|image/svg\+xml)"
)
GZIP_MIN_BYTES = 1024

# Keep in step with the README's "Caching" section.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_HTML = "no-cache"
CACHE_DEFAULT = "public, max-age=0, must-revalidate"
# A content hash in the file name (index-B3xYz12a.js, main.3f2a1b9c.chunk.js):
# a dash- or dot-separated part of the stem after the first, 8 to 64 characters,
# and not a plain lower-case word. A miss only costs a revalidation; a false hit
# would pin a changing file in browsers for a year, hence the strict shape.
_HASH_TOKEN = re.compile(r"^[A-Za-z0-9_]{8,64}$")

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("font/woff2", ".woff2")


def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "image/svg+xml"):
        return guessed + "; charset=utf-8"
    return guessed


def is_compressible(mime: str) -> bool:
    return bool(_COMPRESSIBLE.match(mime))


def is_fingerprinted(path: str) -> bool:
    tokens = re.split(r"[-.]", PurePosixPath(path).stem)[1:]
    return any(
        _HASH_TOKEN.match(token) and not (token.isalpha() and token.islower()) for token in tokens
    )


def cache_control(path: str, mime: str) -> str:
    if mime.startswith("text/html"):
        return CACHE_HTML
    return CACHE_IMMUTABLE if is_fingerprinted(path) else CACHE_DEFAULT


@dataclass
class Entry:
    size: int
    sha256: str
    type: str
    cache: str
    gzip_size: int | None = None  # a precompressed variant exists when set


@dataclass
class Manifest:
    deployment_id: int
    files: dict[str, Entry] = field(default_factory=dict)
    headers: list[dict] = field(default_factory=list)  # see app/site_rules.py
    redirects: list[dict] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def to_json(self) -> bytes:
        data = {"version": MANIFEST_VERSION, **asdict(self)}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        data = json.loads(raw)
        files = {path: Entry(**entry) for path, entry in data["files"].items()}
        return cls(data["deployment_id"], files, data["headers"], data["redirects"])


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Diff:
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int
    bytes_before: int
    bytes_after: int

    @property
    def paths(self) -> list[str]:
        return sorted(self.added + self.removed + self.changed)

    def summary(self, sample: int = 20) -> dict:
        """What the deployment card and the API show: counts and a few paths of each kind."""
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "examples": {
                "added": self.added[:sample],
                "removed": self.removed[:sample],
                "changed": self.changed[:sample],
            },
        }


def diff(old: Manifest, new: Manifest) -> Diff:
    """Compare two deployments file by file."""
    before, after = old.files, new.files
    changed = sorted(p for p in before.keys() & after.keys() if before[p].sha256 != after[p].sha256)
    return Diff(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=changed,
        unchanged=len(before.keys() & after.keys()) - len(changed),
        bytes_before=old.total_bytes,
        bytes_after=new.total_bytes,
    )
