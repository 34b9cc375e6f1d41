"""Two web processes and two consumers on one Redis, PostgreSQL or SQLite, and S3 storage.

The production topology on one machine: builds spread over both consumers,
limits hold across them, a consumer killed mid-build is noticed by the other,
and a log viewer on either web process sees every line of a build on either.
"""

import signal
import sys
import threading
import time

import pytest

from tests.sites import script_site
from tests.sse import read_events
from tests.stack import VENV_BIN, Service, Stack, free_port, wait_for_port

pytestmark = pytest.mark.e2e


class Cluster(Stack):
    """A Stack with a second gunicorn and a second consumer (worker-b)."""

    def __init__(self, base, redis_url: str, **env):
        super().__init__(base, redis_url=redis_url, **env)
        self.port_b = free_port()
        self.base_url_b = f"http://127.0.0.1:{self.port_b}"
        gunicorn = [str(VENV_BIN / "gunicorn"), "-k", "gevent", "-w", "1", "wsgi:app"]
        self.web_b = Service(
            "web-b", [*gunicorn, "--bind", f"127.0.0.1:{self.port_b}"], self.env, base
        )
        self.consumer_b = self._second_consumer()

    def _second_consumer(self) -> Service:
        env = {**self.env, "WORKER_ID": "worker-b"}
        return Service("consumer-b", [sys.executable, "huey_consumer.py"], env, self.base)

    def start(self, with_admin: bool = True) -> "Cluster":
        super().start(with_admin)
        self.web_b.start()
        self.consumer_b.start()
        wait_for_port(self.port_b)
        return self

    def stop(self) -> None:
        self.consumer_b.stop(signal.SIGINT)
        self.web_b.stop()
        super().stop()


@pytest.fixture
def cluster(tmp_path, redis_url, seaweed):
    running = Cluster(
        tmp_path / "cluster",
        redis_url=redis_url,
        STORAGE_URL=seaweed.url(),
        WORKERS=2,
        HEARTBEAT_TIMEOUT=20,
        HOUSEKEEPING_INTERVAL=5,
    ).start()
    yield running
    running.stop()


def most_at_once(intervals: list[tuple[str, str]]) -> int:
    """The largest number of [start, end) intervals that overlap at any moment."""
    moments = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, change in moments:  # an end sorts before a start at the same instant
        running += change
        peak = max(peak, running)
    return peak


def test_deployments_spread_over_both_consumers_within_every_limit(cluster, make_repo):
    site = script_site("sleep 3 && mkdir -p dist && echo built > dist/index.html")
    projects = [cluster.create_project(make_repo(site), supersede=False) for _ in range(9)]
    ids = [cluster.deploy(p["id"])["deployment_id"] for p in projects]
    ids.append(cluster.deploy(projects[0]["id"])["deployment_id"])  # the same project twice
    finished = [cluster.wait(i, timeout=240) for i in ids]
    assert [d["status"] for d in finished] == ["deployed"] * 10
    assert {d["worker_id"] for d in finished} == {"worker-a", "worker-b"}
    # When each build held its slot, from the database's own timestamps: exact,
    # where sampling the API one deployment at a time is not.
    for worker in ("worker-a", "worker-b"):
        mine = [(d["started_at"], d["finished_at"]) for d in finished if d["worker_id"] == worker]
        assert most_at_once(mine) <= 2, (worker, mine)  # WORKERS=2 each
    same = [(d["started_at"], d["finished_at"]) for d in finished
            if d["project_id"] == projects[0]["id"]]  # fmt: skip
    assert len(same) == 2 and most_at_once(same) == 1  # PROJECT_CONCURRENCY=1 across both


def test_a_consumer_killed_mid_build_is_noticed_and_the_other_carries_on(cluster, make_repo):
    slow = script_site("echo started; sleep 15 && mkdir -p dist && echo ok > dist/index.html")
    projects = [cluster.create_project(make_repo(slow)) for _ in range(4)]
    ids = [cluster.deploy(p["id"])["deployment_id"] for p in projects]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = [cluster.deployment(i) for i in ids]
        if sum(d["status"] == "building" for d in running) == 4:
            break
        time.sleep(0.5)
    on_b = [d["id"] for d in running if d["worker_id"] == "worker-b"]
    on_a = [d["id"] for d in running if d["worker_id"] == "worker-a"]
    assert on_a and on_b, running

    cluster.consumer_b.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    for deployment_id in on_b:
        lost = cluster.wait(deployment_id, timeout=60)
        assert (lost["status"], lost["error"]) == ("failed", "worker_lost")
    assert time.monotonic() - killed_at < 60
    assert [cluster.wait(i, timeout=90)["status"] for i in on_a] == ["deployed"] * len(on_a)

    cluster.consumer.stop(signal.SIGINT)  # only the restarted consumer is left for the next build
    cluster.consumer_b = cluster._second_consumer().start()
    quick = cluster.create_project(
        make_repo(script_site("mkdir -p dist && echo q > dist/index.html"))
    )
    done = cluster.wait(cluster.deploy(quick["id"])["deployment_id"], timeout=120)
    assert (done["status"], done["worker_id"]) == ("deployed", "worker-b")


def test_viewers_on_either_web_process_see_every_line_in_order(cluster, make_repo):
    lines = "; ".join(f"echo line-{n:03}" for n in range(200))
    site = script_site(f"sleep 2; {lines}; mkdir -p dist && echo ok > dist/index.html")
    project = cluster.create_project(make_repo(site))
    deployment_id = cluster.deploy(project["id"])["deployment_id"]
    received: dict[str, list[str]] = {}

    def view(name: str, base_url: str) -> None:
        response = cluster.http.get(
            f"{base_url}/api/v1/deployments/{deployment_id}/events", stream=True, timeout=120
        )
        texts = []
        for event in read_events(response):
            if event.event == "log":
                texts.append(event.data)
        received[name] = texts

    viewers = [
        threading.Thread(target=view, args=(name, url))
        for name, url in (("a", cluster.base_url), ("b", cluster.base_url_b))
    ]
    for viewer in viewers:
        viewer.start()
    for viewer in viewers:
        viewer.join(timeout=150)
    expected = [f"line-{n:03}" for n in range(200)]
    for name in ("a", "b"):
        printed = [t for t in (_text(e) for e in received[name]) if t.startswith("line-")]
        assert printed == expected, (name, received[name][:5], len(received[name]))


def _text(data: str) -> str:
    import json

    return json.loads(data)["text"]
