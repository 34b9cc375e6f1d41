"""Live log fan-out: many viewers in one process share one reader per deployment."""

import threading
import time

import pytest
import redis
from sqlalchemy import event

from app import log_feeds
from app.extensions import db
from app.log_feeds import feed_hub, follow
from app.logs import LogWriter, redis_key
from app.metrics import registry

VIEWERS = 30


class CountingRedis(redis.Redis):
    """A real Redis client that counts the stream reads it makes."""

    xreads = 0

    def xread(self, *args, **kwargs):
        type(self).xreads += 1
        return super().xread(*args, **kwargs)


@pytest.fixture(params=["redis", "database"])
def live(request):
    """The live source: a Redis stream, or (the embedded default) the database alone."""
    if request.param == "database":
        return None
    url = request.getfixturevalue("redis_url")
    client = CountingRedis.from_url(url.rsplit("/", 1)[0] + "/14")
    client.flushdb()
    CountingRedis.xreads = 0
    return client


def log_reads(engine) -> list:
    reads = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().startswith("SELECT") and "FROM log_line" in statement:
            reads.append(1)

    event.listen(engine, "before_cursor_execute", count)
    return reads


def start_viewers(app, deployment_id, live, count):
    seen = [[] for _ in range(count)]

    def watch(into):
        with app.app_context():
            for item in follow(deployment_id, 0, redis=live, poll=0.1, idle=30):
                into.append(item.seq)

    threads = [threading.Thread(target=watch, args=(s,)) for s in seen]
    for thread in threads:
        thread.start()
    return threads, seen


def wait_for(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def feeds_gauge() -> float:
    return registry.get_sample_value("slipway_log_feeds")


def test_viewers_in_one_process_share_one_reader(app, deployment, live):
    hub, key = feed_hub(), redis_key(deployment.id)
    gauge_before = feeds_gauge()
    writer = LogWriter(deployment.id, redis=live, interval=0.05)
    writer.system("first")
    writer.flush()
    reads = log_reads(db.engine)
    threads, seen = start_viewers(app, deployment.id, live, VIEWERS)
    wait_for(lambda: hub.viewers(key) == VIEWERS)
    assert feeds_gauge() == gauge_before + 1
    for batch in range(20):
        for i in range(10):
            writer.system(f"line {batch} {i}")
        writer.flush()
        time.sleep(0.05)
    writer.status("deployed")
    writer.close()
    for thread in threads:
        thread.join(timeout=30)

    assert all(s == list(range(1, 203)) for s in seen)
    # One reader for all: polling each viewer on its own would be 30 viewers ×
    # (20 batches + 10 polls a second) reads.
    if live is not None:
        assert CountingRedis.xreads <= 60
        assert len(reads) <= VIEWERS + 20  # one catch-up per viewer, and the reader's checks
    else:
        assert len(reads) <= VIEWERS + 40
    assert len(hub) == 0 and feeds_gauge() == gauge_before  # the last viewer stopped it


def test_a_batch_the_live_stream_missed_still_reaches_viewers_in_order(app, deployment, redis_url):
    live = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/14")
    live.flushdb()
    writer = LogWriter(deployment.id, redis=live)
    threads, seen = start_viewers(app, deployment.id, live, 3)
    wait_for(lambda: feed_hub().viewers(redis_key(deployment.id)) == 3)
    writer.system("one")
    writer.flush()
    wait_for(lambda: all(s == [1] for s in seen))
    writer.redis = None  # as if Redis refused this batch: it is stored, not streamed
    writer.system("two")
    writer.system("three")
    writer.flush()
    writer.redis = live
    writer.system("four")
    writer.status("failed")
    writer.close()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [[1, 2, 3, 4, 5]] * 3


def test_a_viewer_behind_a_full_buffer_reads_the_rest_from_the_database(
    app, deployment, monkeypatch
):
    monkeypatch.setattr(log_feeds, "BUFFER_EVENTS", 10)
    writer = LogWriter(deployment.id, interval=3600)  # flushed by hand below
    threads, seen = start_viewers(app, deployment.id, None, 1)
    key = redis_key(deployment.id)
    wait_for(lambda: feed_hub().viewers(key) == 1)
    [feed] = [feed_hub()._feeds[key]]
    for i in range(100):
        writer.system(f"line {i}")
    writer.status("deployed")
    writer.close()
    for thread in threads:
        thread.join(timeout=30)
    assert seen == [list(range(1, 102))]
    assert feed.buffered <= 10
