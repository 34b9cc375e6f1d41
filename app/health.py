"""Is each part Slipway depends on answering? For the /healthz endpoint and the Redis banner."""

import time

import redis as redis_lib
from flask import current_app
from sqlalchemy import text

from app.extensions import db

_CHECK_EVERY = 5.0
_last: dict[str, tuple[float, bool]] = {}


def redis_down() -> bool:
    """True when Redis is configured and does not answer (pages then say so); kept 5 s."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return False
    checked_at, down = _last.get(url, (0.0, False))
    if time.monotonic() - checked_at < _CHECK_EVERY:
        return down
    down = _ping_redis(url) is not None
    _last[url] = (time.monotonic(), down)
    return down


def _ping_redis(url: str) -> str | None:
    try:
        redis_lib.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
    except redis_lib.RedisError as exc:
        return type(exc).__name__
    return None


def checks() -> dict[str, dict]:
    """Each dependency: ok or not, how long it took to answer, and what is used."""
    config = current_app.config
    results = {
        "database": _timed(_database, db.engine.dialect.name),
        "broker": _timed(_broker, "redis" if config.get("REDIS_URL") else "sqlite"),
        "storage": _timed(_storage, "s3" if config.get("STORAGE_URL") else "local"),
    }
    if config["BUILD_RUNNER"] != "local":
        results["docker"] = _timed(_docker, "docker", required=config["BUILD_RUNNER"] == "docker")
    return results


def _timed(check, kind: str, required: bool = True) -> dict:
    started = time.perf_counter()
    problem = check()
    result = {
        "ok": problem is None,
        "kind": kind,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "required": required,
    }
    if problem:
        result["error"] = problem
    return result


def _database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here is the answer
        db.session.rollback()
        return type(exc).__name__
    return None


def _broker() -> str | None:
    url = current_app.config.get("REDIS_URL")
    if url:
        return _ping_redis(url)
    from app.queue import huey

    try:
        huey.pending_count()  # the SQLite queue answers how many tasks wait
    except Exception as exc:
        return type(exc).__name__
    return None


def _storage() -> str | None:
    from app.storage import StorageError, make_storage

    try:
        make_storage(current_app.config).read_alias("healthz-probe")
    except StorageError:
        return "StorageError"
    return None


def _docker() -> str | None:
    from app.runners import docker_answers

    return None if docker_answers() else "the Docker daemon does not answer"
