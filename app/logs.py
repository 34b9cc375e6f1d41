"""The build log: one ordered stream of lines and status events per deployment.

Writers batch lines into the database (and, with Redis, into a stream per
deployment so any web process can follow a build live). Readers catch up from
the database and then follow the live source (app/log_feeds.py); every event
carries the sequence number it was stored under, which is what makes
resumption exact.
"""

import contextlib
import json
import threading
import time
from dataclasses import dataclass

import redis as redis_lib
from flask import current_app
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import LogLine

MAX_LINE_CHARS = 8000
STATUS_STREAM = "status"  # rows with this stream are status events, not output


@dataclass(frozen=True)
class LogEvent:
    seq: int
    ts: float
    stream: str
    text: str

    @property
    def is_status(self) -> bool:
        return self.stream == STATUS_STREAM

    def to_dict(self) -> dict:
        return {"seq": self.seq, "ts": self.ts, "stream": self.stream, "text": self.text}


def redis_key(deployment_id: int) -> str:
    """The deployment's stream, in this installation's part of Redis (ids repeat across them)."""
    return f"slipway:{current_app.config['INSTANCE_ID']}:log:{deployment_id}"


def connect_redis(url: str | None):
    return redis_lib.Redis.from_url(url, socket_timeout=5) if url else None


class LogWriter:
    """Collect lines from any thread and store them in batches.

    A background thread flushes every `interval` seconds, and a full batch is
    flushed at once, so a burst of 20,000 lines costs a few dozen commits.
    """

    def __init__(
        self,
        deployment_id: int,
        redis=None,
        interval: float = 0.2,
        batch_size: int = 2000,
        mask=None,
    ):
        self.deployment_id = deployment_id
        self.redis = redis
        self._key = redis_key(deployment_id)  # now: the flusher thread has no app context
        self.interval = interval
        self.batch_size = batch_size
        self.mask = mask or (lambda text: text)
        self._engine = db.engine
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[dict] = []
        self._seq = self._last_seq()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="log-flusher")
        self._thread.start()

    def _last_seq(self) -> int:
        query = select(func.max(LogLine.seq)).where(LogLine.deployment_id == self.deployment_id)
        with self._engine.connect() as conn:
            return conn.execute(query).scalar() or 0

    def write(self, stream: str, text: str) -> None:
        """Queue one line; `stream` is stdout, stderr, system or status."""
        # A carriage return redraws the line in a terminal (progress bars): keep
        # what the terminal would finally show.
        text = text.rstrip("\r\n").rsplit("\r", 1)[-1]
        text = self.mask(text)[:MAX_LINE_CHARS]
        with self._lock:
            self._seq += 1
            self._pending.append(
                {
                    "deployment_id": self.deployment_id,
                    "seq": self._seq,
                    "ts": time.time(),
                    "stream": stream,
                    "text": text,
                }
            )
            full = len(self._pending) >= self.batch_size
        if full:
            self.flush()

    def system(self, text: str) -> None:
        self.write("system", text)

    def status(self, status: str, step: str | None = None, error: str | None = None) -> None:
        self.write(STATUS_STREAM, json.dumps({"status": status, "step": step, "error": error}))

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                rows, self._pending = self._pending, []
            if rows:
                with self._engine.begin() as conn:
                    conn.execute(insert(LogLine), rows)
                self._publish(rows)

    def _publish(self, rows: list[dict]) -> None:
        if self.redis is None:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for row in rows:
                fields = {"ts": row["ts"], "stream": row["stream"], "text": row["text"]}
                pipe.xadd(self._key, fields, id=f"0-{row['seq']}")
            pipe.execute()
        except redis_lib.RedisError:
            # The database already holds these lines; viewers fall back to it.
            pass

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def close(self, expire_after: int | None = None) -> None:
        """Flush what is left; with `expire_after`, let the live stream expire."""
        self._stop.set()
        self._thread.join()
        self.flush()
        if self.redis is not None and expire_after is not None:
            with contextlib.suppress(redis_lib.RedisError):
                self.redis.expire(self._key, expire_after)


def read_from_db(deployment_id: int, after: int, limit: int = 5000) -> list[LogEvent]:
    """Return stored events with seq > after, oldest first."""
    rows = db.session.execute(
        select(LogLine.seq, LogLine.ts, LogLine.stream, LogLine.text)
        .where(LogLine.deployment_id == deployment_id, LogLine.seq > after)
        .order_by(LogLine.seq)
        .limit(limit)
    ).all()
    # End the read transaction so the next poll sees new commits (SQLite WAL
    # snapshots) and no connection is held between polls.
    db.session.remove()
    return [LogEvent(*row) for row in rows]


def parse_stream_entries(reply) -> list[LogEvent]:
    """Turn an XREAD reply on a deployment's stream into events (the entry id is 0-seq)."""
    events = []
    for _key, entries in reply or []:
        for entry_id, fields in entries:
            seq = int(entry_id.decode().split("-")[1])
            events.append(
                LogEvent(
                    seq, float(fields[b"ts"]), fields[b"stream"].decode(), fields[b"text"].decode()
                )
            )
    return events


def is_terminal(event: LogEvent) -> bool:
    return event.is_status and json.loads(event.text)["status"] in TERMINAL_NAMES


TERMINAL_NAMES = frozenset({"deployed", "failed", "cancelled"})


def live_redis():
    """The web process's Redis client for following logs, or None without Redis."""
    from flask import current_app

    clients = current_app.extensions.setdefault("slipway_redis", {})
    url = current_app.config["REDIS_URL"]
    if url and url not in clients:
        clients[url] = connect_redis(url)
    return clients.get(url)
