"""Configuration from environment variables, with defaults that work on a laptop."""

import os
import secrets
import socket
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
# yarn and pnpm, pinned in tools/package.json and installed by `make install`.
BUILD_TOOLS_DIR = ROOT / "tools" / "node_modules"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _default_secret_key(data_dir: Path) -> str:
    """Keep a generated key in the data directory so sessions survive restarts."""
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _secrets_key(data_dir: Path) -> str | None:
    """SECRETS_KEY, else the key file `make run` writes; never made up here (app/secrets.py)."""
    if os.environ.get("SECRETS_KEY"):
        return os.environ["SECRETS_KEY"]
    key_file = data_dir / "secrets.key"
    return key_file.read_text().strip() if key_file.exists() else None


def _instance_id(database_uri: str) -> str:
    """Tells this installation's queue, log streams and containers from another's on a
    shared Redis or Docker daemon: SLIPWAY_INSTANCE, or a digest of the database URL."""
    import hashlib

    given = os.environ.get("SLIPWAY_INSTANCE")
    return given or hashlib.sha256(database_uri.encode()).hexdigest()[:12]


class Config:
    DATA_DIR = Path(os.environ.get("SLIPWAY_DATA_DIR", ROOT / "var")).resolve()
    SECRET_KEY = os.environ.get("SECRET_KEY") or _default_secret_key(DATA_DIR)
    # Encrypts secret variables at rest (Fernet); comma-separate keys to rotate.
    SECRETS_KEY = _secrets_key(DATA_DIR)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'slipway.db'}")
    REDIS_URL = os.environ.get("REDIS_URL") or None
    HUEY_SQLITE_PATH = str(DATA_DIR / "queue.db")
    BUILD_RUNNER = os.environ.get("BUILD_RUNNER", "auto")
    # {version} is the Node.js major. Without a registry, build images with
    # `flask --app wsgi images build --node 20` and set slipway-node:{version}.
    NODE_IMAGE = os.environ.get("NODE_IMAGE", "node:{version}-alpine")
    # Limits of the Docker runner, per container; reported in every build log.
    BUILD_MEMORY = os.environ.get("BUILD_MEMORY", "2g")
    BUILD_CPUS = os.environ.get("BUILD_CPUS", "2")
    BUILD_PIDS_LIMIT = _env_int("BUILD_PIDS_LIMIT", 512)
    BUILD_TMPFS = os.environ.get("BUILD_TMPFS", "1g")
    BUILD_USER = os.environ.get("BUILD_USER", "1000:1000")
    # What a build may publish, checked before anything is uploaded.
    MAX_OUTPUT_FILES = _env_int("MAX_OUTPUT_FILES", 20_000)
    MAX_OUTPUT_BYTES = _env_int("MAX_OUTPUT_BYTES", 1024**3)
    # Builds at once: per project across all consumers, and in total (0: no cap
    # beyond each consumer's WORKERS).
    PROJECT_CONCURRENCY = _env_int("PROJECT_CONCURRENCY", 1)
    MAX_CONCURRENT_BUILDS = _env_int("MAX_CONCURRENT_BUILDS", 0)
    # Deployments waiting at once, over all projects; past it deploys answer 429.
    MAX_QUEUED = _env_int("MAX_QUEUED", 100)
    # A queued deployment no task has looked at for this long is enqueued again
    # (its task was lost: the broker restarted empty, or was down at deploy time).
    DISPATCH_AFTER = _env_int("DISPATCH_AFTER", 60)
    # The dependency cache (node_modules by lock file) and its limits.
    MODULES_CACHE = os.environ.get("MODULES_CACHE", "on").lower() not in ("0", "off", "false")
    CACHE_MAX_BYTES = _env_int("CACHE_MAX_BYTES", 10 * 1024**3)
    CACHE_MAX_AGE_DAYS = _env_int("CACHE_MAX_AGE_DAYS", 7)
    CACHE_REMOTE_DIR = os.environ.get("CACHE_REMOTE_DIR") or None
    # GitHub's API; https://HOST/api/v3 for GitHub Enterprise Server.
    GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    # Where Git hosts send push notifications: this dashboard's public address
    # (shown with the webhook secret on each project's settings page).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or None
    SITES_DOMAIN = os.environ.get("SITES_DOMAIN", "localhost:5000")
    # Sites live in STORAGE_DIR unless STORAGE_URL names an S3-compatible bucket:
    # s3://BUCKET/PREFIX?endpoint=URL&region=NAME&addressing=path|virtual
    STORAGE_DIR = Path(os.environ.get("STORAGE_DIR", DATA_DIR / "sites")).resolve()
    STORAGE_URL = os.environ.get("STORAGE_URL") or None
    STORAGE_UPLOAD_THREADS = _env_int("STORAGE_UPLOAD_THREADS", 8)
    STORAGE_RETRIES = _env_int("STORAGE_RETRIES", 4)
    # Deployments per project whose files are kept (the live one always is).
    RETAIN_DEPLOYMENTS = _env_int("RETAIN_DEPLOYMENTS", 20)
    # A deploy removing more than this share of the live files is held back.
    GUARD_REMOVED_PERCENT = _env_int("GUARD_REMOVED_PERCENT", 50)
    # After a site changes, its changed URLs are purged from the CDN: POSTed as
    # JSON to CDN_PURGE_URL ({slug} and {project_id} are filled in), or sent to
    # Cloudflare when CDN_PURGE_URL is "cloudflare".
    CDN_PURGE_URL = os.environ.get("CDN_PURGE_URL") or None
    CDN_PURGE_TOKEN = os.environ.get("CDN_PURGE_TOKEN") or None
    CLOUDFLARE_ZONE_ID = os.environ.get("CLOUDFLARE_ZONE_ID") or None
    CLOUDFLARE_API_URL = os.environ.get(
        "CLOUDFLARE_API_URL", "https://api.cloudflare.com/client/v4"
    )
    BUILDS_DIR = Path(os.environ.get("BUILDS_DIR", DATA_DIR / "builds")).resolve()
    CACHE_DIR = Path(os.environ.get("CACHE_DIR", DATA_DIR / "cache")).resolve()
    INSTANCE_ID = _instance_id(SQLALCHEMY_DATABASE_URI)
    WORKER_ID = os.environ.get("WORKER_ID", f"{socket.gethostname()}-{os.getpid()}")
    WORKERS = _env_int("WORKERS", 2)
    CLONE_TIMEOUT = _env_int("CLONE_TIMEOUT", 5 * 60)
    INSTALL_TIMEOUT = _env_int("INSTALL_TIMEOUT", 30 * 60)
    BUILD_TIMEOUT = _env_int("BUILD_TIMEOUT", 60 * 60)
    # A running build touches its heartbeat this often; the reaper gives up on
    # a build whose heartbeat is older than HEARTBEAT_TIMEOUT.
    HEARTBEAT_INTERVAL = _env_int("HEARTBEAT_INTERVAL", 5)
    HEARTBEAT_TIMEOUT = _env_int("HEARTBEAT_TIMEOUT", 30)
    # How often each consumer reaps silent builds and re-enqueues stranded ones.
    HOUSEKEEPING_INTERVAL = _env_int("HOUSEKEEPING_INTERVAL", 10)
    SSE_HEARTBEAT = _env_int("SSE_HEARTBEAT", 15)
    LOG_STREAM_TTL = _env_int("LOG_STREAM_TTL", 3600)
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Push notifications list every commit pushed: GitHub sends up to 25 MB.
    WEBHOOK_MAX_BYTES = _env_int("WEBHOOK_MAX_BYTES", 25 * 1024 * 1024)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Reverse proxies in front of the web process whose X-Forwarded-* headers are
    # trusted (0: none, so a client cannot choose the address it is limited by).
    PROXY_HOPS = _env_int("PROXY_HOPS", 0)
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: keep limiting, per process
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    # A login lasts 12 hours, or 14 days with "stay logged in".
    PERMANENT_SESSION_LIFETIME = _env_int("SESSION_HOURS", 12) * 3600
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Set SECURE_COOKIES=1 when the dashboard is served over HTTPS.
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = os.environ.get("SECURE_COOKIES") == "1"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_CHECK_DEFAULT = False  # checked in app/auth.py, skipped for bearer tokens
    WTF_CSRF_TIME_LIMIT = None
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": True}
