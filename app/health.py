"""Is Redis answering? Asked by every page (for the banner), so the answer is kept briefly."""

import time

import redis as redis_lib
from flask import current_app

_CHECK_EVERY = 5.0
_last: dict[str, tuple[float, bool]] = {}


def redis_down() -> bool:
    """True when Redis is configured and does not answer (pages then say so)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return False
    checked_at, down = _last.get(url, (0.0, False))
    if time.monotonic() - checked_at < _CHECK_EVERY:
        return down
    try:
        redis_lib.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5).ping()
        down = False
    except redis_lib.RedisError:
        down = True
    _last[url] = (time.monotonic(), down)
    return down
