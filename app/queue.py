"""The Huey instance: Redis when REDIS_URL is set, an SQLite file otherwise."""

import os

from huey import RedisHuey, SqliteHuey

from app.config import Config


def make_huey():
    """Build the queue from the environment; the consumer and the web share this."""
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        # One queue per installation: two sharing a Redis never run each other's tasks.
        return RedisHuey(f"slipway-{Config.INSTANCE_ID}", url=redis_url)
    Config.DATA_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("slipway", filename=Config.HUEY_SQLITE_PATH)


huey = make_huey()
