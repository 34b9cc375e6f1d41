"""The log stream: batched writes, exact resumption, Redis as the live path."""

import json
import threading

import pytest
import redis
from sqlalchemy import event, func, select

from app.extensions import db
from app.log_feeds import follow
from app.logs import LogWriter, read_from_db, redis_key
from app.models import LogLine


@pytest.fixture
def deployment_id(deployment):
    return deployment.id


def count_commits(engine):
    commits = []
    event.listen(engine, "commit", lambda conn: commits.append(1))
    return commits


def test_a_20000_line_burst_is_stored_in_few_commits_and_in_order(deployment_id):
    commits = count_commits(db.engine)
    writer = LogWriter(deployment_id)
    for i in range(20_000):
        writer.write("stdout", f"line {i}\n")
    writer.close()

    rows = db.session.execute(
        select(LogLine.seq, LogLine.text)
        .where(LogLine.deployment_id == deployment_id)
        .order_by(LogLine.seq)
    ).all()
    assert [text for _, text in rows] == [f"line {i}" for i in range(20_000)]
    assert [seq for seq, _ in rows] == list(range(1, 20_001))
    assert len(commits) <= 40


def test_lines_from_two_threads_get_distinct_ordered_numbers(deployment_id):
    writer = LogWriter(deployment_id)

    def write(stream):
        for i in range(2000):
            writer.write(stream, f"{stream} {i}")

    threads = [threading.Thread(target=write, args=(s,)) for s in ("stdout", "stderr")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    events = read_from_db(deployment_id, 0)
    assert [e.seq for e in events] == list(range(1, 4001))
    assert [e.text for e in events if e.stream == "stderr"] == [f"stderr {i}" for i in range(2000)]


def test_a_second_writer_continues_the_sequence(deployment_id):
    first = LogWriter(deployment_id)
    first.system("one")
    first.close()
    second = LogWriter(deployment_id)
    second.system("two")
    second.close()
    assert [(e.seq, e.text) for e in read_from_db(deployment_id, 0)] == [(1, "one"), (2, "two")]


def test_progress_bars_keep_their_last_frame_and_long_lines_are_cut(deployment_id):
    writer = LogWriter(deployment_id)
    writer.write("stderr", "10%\r50%\r100% done\r\n")
    writer.write("stdout", "x" * 20_000)
    writer.close()
    texts = [e.text for e in read_from_db(deployment_id, 0)]
    assert texts[0] == "100% done"
    assert len(texts[1]) == 8000


def finish(writer):
    writer.status("deployed")
    writer.close()


def test_follow_resumes_after_a_sequence_number_and_stops_at_the_end(deployment_id):
    writer = LogWriter(deployment_id)
    for i in range(1, 6):
        writer.system(f"line {i}")
    finish(writer)
    events = list(follow(deployment_id, after=2, poll=0.01))
    assert [e.seq for e in events] == [3, 4, 5, 6]
    assert events[-1].is_status and json.loads(events[-1].text)["status"] == "deployed"


def test_follow_reports_idle_periods_for_heartbeats(deployment_id):
    writer = LogWriter(deployment_id)
    writer.system("hello")
    writer.flush()
    stream = follow(deployment_id, after=0, poll=0.01, idle=0.05)
    assert next(stream).text == "hello"
    assert next(stream) is None  # nothing new for `idle` seconds
    finish(writer)
    assert next(stream).is_status


@pytest.fixture
def redis_client(redis_url):
    """An empty Redis database of its own (the end-to-end stacks use database 0)."""
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/15")
    client.flushdb()
    return client


def test_follow_takes_live_lines_from_redis(deployment_id, redis_client):
    client = redis_client
    writer = LogWriter(deployment_id, redis=client)
    writer.system("stored and streamed")
    writer.flush()
    # An event only Redis has shows that viewers read the live stream, not the database.
    client.xadd(
        redis_key(deployment_id), {"ts": 1.0, "stream": "stdout", "text": "live only"}, id="0-2"
    )
    stream = follow(deployment_id, after=0, redis=client, poll=0.05)
    assert next(stream).text == "stored and streamed"
    assert next(stream).text == "live only"
    client.xadd(
        redis_key(deployment_id),
        {"ts": 1.0, "stream": "status", "text": json.dumps({"status": "failed"})},
        id="0-3",
    )
    assert next(stream).is_status
    writer.close(expire_after=3600)
    assert 0 < client.ttl(redis_key(deployment_id)) <= 3600


def test_follow_falls_back_to_the_database_when_redis_is_down(deployment_id):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    writer = LogWriter(deployment_id, redis=dead)
    writer.system("still here")
    finish(writer)
    events = list(follow(deployment_id, after=0, redis=dead, poll=0.01))
    assert events[0].text == "still here"
    assert db.session.scalar(select(func.count(LogLine.id))) == 2
