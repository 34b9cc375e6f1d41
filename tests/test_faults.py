"""The queue survives its broker: Redis down at deploy time, and restarted empty."""

import time

import pytest

from tests.sites import script_site
from tests.stack import Stack, free_port, redis_service, wait_for_port

pytestmark = pytest.mark.e2e


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} after {timeout}s")


@pytest.fixture
def broker(tmp_path):
    port = free_port()
    service = redis_service(tmp_path / "redis", port).start()
    wait_for_port(port)
    yield service, port
    service.stop()


def test_no_deployment_is_lost_when_redis_goes_away(tmp_path, make_repo, broker):
    redis, port = broker
    stack = Stack(
        tmp_path / "stack",
        redis_url=f"redis://127.0.0.1:{port}/0",
        DISPATCH_AFTER=3,
        MAX_CONCURRENT_BUILDS=1,
    ).start()
    try:
        repo = make_repo(script_site("mkdir -p dist && echo quick > dist/index.html"))
        quick = stack.create_project(repo, name="quick")

        # Redis is down when the deploy is requested: the answer says so, the row stays.
        redis.stop()
        answer = stack.api("POST", f"/projects/{quick['id']}/deploy")
        assert answer.status_code == 202
        assert "cannot be reached" in answer.json()["warning"]
        first = answer.json()["deployment_id"]
        assert stack.deployment(first)["status"] == "queued"
        page = stack.http.get(f"{stack.base_url}/projects/{quick['id']}", timeout=10)
        assert page.status_code == 200 and "Redis is not answering" in page.text
        assert stack.api("GET", f"/deployments/{first}/logs").status_code == 200

        # Redis comes back empty: the dispatcher finds the deployment and it builds.
        redis.start()
        wait_for_port(port)
        assert stack.wait(first, timeout=150)["status"] == "deployed"
        assert (
            "Redis is not answering"
            not in stack.http.get(f"{stack.base_url}/projects/{quick['id']}", timeout=10).text
        )

        # A deployment waits for the one build slot; Redis restarts and forgets its task.
        slow_repo = make_repo(script_site("sleep 8 && mkdir -p dist && echo s > dist/index.html"))
        slow = stack.create_project(slow_repo, name="slow")
        running = stack.deploy(slow["id"])["deployment_id"]
        stack.wait(running, until={"building"}, timeout=60)
        waiting = stack.deploy(quick["id"])["deployment_id"]
        time.sleep(1)
        assert stack.deployment(waiting)["status"] == "queued"
        redis.stop()
        redis.start()
        wait_for_port(port)
        assert stack.wait(running, timeout=120)["status"] == "deployed"
        assert stack.wait(waiting, timeout=150)["status"] == "deployed"
        assert "had no task: enqueued again" in stack.consumer.log()
    finally:
        stack.stop()
