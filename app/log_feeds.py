"""One reader per deployment per web process, shared by every viewer of it.

A thousand people watching one build must not cost a thousand blocking Redis
reads per line. The first viewer of a deployment starts a feed: a background
reader that takes new events from the live stream (or, without Redis, from
the database) into a buffer, and every viewer in this process waits on that
buffer. Viewers still catch up from the database on their own, and read the
database for anything the buffer does not hold (it starts where its first
viewer was, and drops its oldest events when full); that is always safe
because the writer stores lines in the database before it streams them.
"""

import bisect
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

import redis as redis_lib
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.logs import LogEvent, is_terminal, parse_stream_entries, read_from_db, redis_key
from app.metrics import log_feeds
from app.models import LogLine

# What a feed keeps for viewers that have not taken it yet; a viewer further
# behind reads the database. Both bounds, since a line can be 8,000 characters.
BUFFER_EVENTS = 5000
BUFFER_CHARS = 4_000_000
READ_BATCH = 5000
log = logging.getLogger(__name__)


def follow(
    deployment_id: int, after: int, redis=None, poll: float = 0.5, idle: float = 15.0
) -> Iterator[LogEvent | None]:
    """Yield events after `after` until the terminal status; None means 'idle'."""
    for batch in follow_batches(deployment_id, after, redis, poll, idle):
        yield from batch or [None]


def follow_batches(
    deployment_id: int, after: int, redis=None, poll: float = 0.5, idle: float = 15.0
) -> Iterator[list[LogEvent]]:
    """Yield events after `after` in the batches they arrive in, until the terminal status.

    An empty batch comes every `idle` seconds without events, so the caller
    can send a heartbeat. Batches let a viewer receive a burst in one write.
    """
    while True:  # catch up from the database, a page at a time
        events = read_from_db(deployment_id, after, limit=READ_BATCH)
        if events:
            batch = _until_terminal(events)
            yield batch
            if is_terminal(batch[-1]):
                return
            after = batch[-1].seq
        if len(events) < READ_BATCH:
            break
    read_after = live_reader(redis, redis_key(deployment_id), db.engine, deployment_id, poll)
    with feed_hub().watch(redis_key(deployment_id), after, read_after) as feed:
        yield from _follow_feed(feed, deployment_id, after, idle)


def _follow_feed(feed: "Feed", deployment_id: int, after: int, idle: float):
    quiet_since = time.monotonic()
    while True:
        waited = time.monotonic() - quiet_since
        events = feed.events_after(after, timeout=max(0.0, idle - waited))
        if events and events[0].seq > after + 1:
            # The buffer begins past this viewer: the rest is in the database.
            events = read_from_db(deployment_id, after) or events
        if events:
            batch = _until_terminal(events)
            yield batch
            if is_terminal(batch[-1]):
                return
            after, quiet_since = batch[-1].seq, time.monotonic()
        elif time.monotonic() - quiet_since >= idle:
            quiet_since = time.monotonic()
            yield []


def _until_terminal(events: list[LogEvent]) -> list[LogEvent]:
    """The events up to and including the first terminal status (nothing follows it)."""
    for index, event in enumerate(events):
        if is_terminal(event):
            return events[: index + 1]
    return events


def feed_hub() -> "FeedHub":
    """This web process's feeds (one hub per app, so test apps do not share)."""
    return current_app.extensions.setdefault("slipway_log_feeds", FeedHub())


class Feed:
    """Events of one deployment, read once and kept for this process's viewers."""

    def __init__(self, read_after: Callable[[int], list[LogEvent]], start_after: int):
        self._read_after = read_after
        self._cond = threading.Condition()
        self._seqs: list[int] = []
        self._events: list[LogEvent] = []
        self._chars = 0
        self._last_seq = start_after
        self._finished = False
        self._stopped = False
        self.viewers = 0

    def start(self) -> "Feed":
        threading.Thread(target=self._run, daemon=True, name="log-feed").start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def events_after(self, after: int, timeout: float) -> list[LogEvent]:
        """Wait up to `timeout` for buffered events with seq > after, and return them."""
        with self._cond:
            self._cond.wait_for(lambda: self._has_after(after) or self._stopped, timeout)
            return self._events[bisect.bisect_right(self._seqs, after) :]

    def _has_after(self, after: int) -> bool:
        return bool(self._seqs) and self._seqs[-1] > after

    def _run(self) -> None:
        while not (self._stopped or self._finished):
            try:
                events = self._read_after(self._last_seq)
            except Exception:  # a database hiccup must not end the feed for everyone
                log.exception("Reading the log stream failed; trying again")
                time.sleep(1)
                continue
            if events:
                self._append(events)

    def _append(self, events: list[LogEvent]) -> None:
        with self._cond:
            for event in events:
                if event.seq > self._last_seq:
                    self._seqs.append(event.seq)
                    self._events.append(event)
                    self._chars += len(event.text)
                    self._last_seq = event.seq
                    self._finished = self._finished or is_terminal(event)
            self._trim()
            self._cond.notify_all()

    def _trim(self) -> None:
        """Drop the oldest events while either bound is exceeded (always keep the newest)."""
        drop = 0
        while len(self._events) - drop > 1 and (
            len(self._events) - drop > BUFFER_EVENTS or self._chars > BUFFER_CHARS
        ):
            self._chars -= len(self._events[drop].text)
            drop += 1
        del self._seqs[:drop], self._events[:drop]

    @property
    def buffered(self) -> int:
        return len(self._events)


class FeedHub:
    """This process's feeds, one per deployment while anyone watches it."""

    def __init__(self):
        self._feeds: dict[str, Feed] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._feeds)

    def viewers(self, key: str) -> int:
        feed = self._feeds.get(key)
        return feed.viewers if feed else 0

    @contextlib.contextmanager
    def watch(self, key: str, after: int, read_after) -> Iterator[Feed]:
        """Join the feed for `key`, starting one (reading after `after`) if none runs."""
        with self._lock:
            feed = self._feeds.get(key)
            if feed is None:
                feed = self._feeds[key] = Feed(read_after, after).start()
                log_feeds.inc()
            feed.viewers += 1
        try:
            yield feed
        finally:
            self._leave(key, feed)

    def _leave(self, key: str, feed: Feed) -> None:
        with self._lock:
            feed.viewers -= 1
            if feed.viewers == 0:
                # The last viewer left: forget the feed now, so a newcomer starts a
                # fresh one instead of joining a reader that is winding down.
                del self._feeds[key]
                log_feeds.dec()
                feed.stop()


def live_reader(client, key: str, engine, deployment_id: int, poll: float):
    """Read new events from Redis, and from the database when Redis is quiet or down.

    The database is the truth when Redis lost the stream (restart, expiry) or
    cannot be reached; without Redis at all it is polled every `poll` seconds.
    """

    def read_after(after: int) -> list[LogEvent]:
        if client is not None:
            try:
                reply = client.xread({key: f"0-{after}"}, block=int(poll * 2000), count=READ_BATCH)
                events = parse_stream_entries(reply)
                if events:
                    return events
            except redis_lib.RedisError:
                time.sleep(poll)
        else:
            time.sleep(poll)
        return stored_events(engine, deployment_id, after)

    return read_after


def stored_events(engine, deployment_id: int, after: int) -> list[LogEvent]:
    """Events stored after `after`, on a connection of the feed's own (no app context)."""
    query = (
        select(LogLine.seq, LogLine.ts, LogLine.stream, LogLine.text)
        .where(LogLine.deployment_id == deployment_id, LogLine.seq > after)
        .order_by(LogLine.seq)
        .limit(READ_BATCH)
    )
    with engine.connect() as conn:
        return [LogEvent(*row) for row in conn.execute(query)]
