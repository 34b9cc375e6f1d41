"""End to end, over HTTP: the real gunicorn + gevent server and a real Huey consumer.

Each test runs twice through the `stack` fixture: on the embedded default
(SQLite queue, database-tailed logs) and with Redis (Redis queue and streams).
"""

import json
import signal
import subprocess
import time
import uuid

import pytest
import requests

from tests.sites import script_site
from tests.sse import read_events

pytestmark = pytest.mark.e2e


def marker() -> str:
    """A sleep argument unique to one test, to find its processes on the host."""
    return f"{600 + uuid.uuid4().int % 1000}.{uuid.uuid4().int % 10_000}"


def processes_matching(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "pgrep" not in line]


def wait_for_log(stack, deployment_id: int, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in stack.log_text(deployment_id):
            return
        assert stack.deployment(deployment_id)["status"] not in ("failed", "deployed")
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared in the log of {deployment_id}")


def start_endless_build(stack, make_repo, repeat: int = 1, **settings) -> tuple[dict, int, str]:
    """Deploy a build that prints 'started' and sleeps; return project, deployment id, marker."""
    sleep = marker()
    repo = make_repo(script_site("echo started; " + "; ".join([f"sleep {sleep}"] * repeat)))
    project = stack.create_project(repo, **settings)
    deployment_id = stack.deploy(project["id"])["deployment_id"]
    wait_for_log(stack, deployment_id, "started")
    return project, deployment_id, sleep


def containers_of(stack, deployment_id: int) -> list:
    from app.runners import docker_answers
    from app.runners.docker import LABEL_DEPLOYMENT, slipway_containers

    if not docker_answers():
        return []
    return slipway_containers(stack.instance, **{LABEL_DEPLOYMENT: str(deployment_id)})


def test_npm_site_with_a_registry_dependency_deploys_and_is_served(stack, make_repo, site_files):
    repo = make_repo(site_files("npm"), message="Add the landing page")
    project = stack.create_project(repo)

    queued = stack.deploy(project["id"])
    assert queued["status"] == "queued"
    assert queued["commit_sha"] == repo.head
    done = stack.wait(queued["deployment_id"])

    assert done["status"] == "deployed", stack.log_text(done["id"])
    assert done["commit_message"] == "Add the landing page"
    assert done["commit_author"].startswith("Ada Lovelace")
    assert done["detected"]["package_manager"] == "npm"
    assert done["detected"]["output_dir"] == "dist"
    assert set(done["step_durations"]) == {"clone", "install", "build", "verify", "upload"}
    assert done["url"] == f"http://d{done['id']}--{project['slug']}.{stack.domain}/"
    assert done["live_url"] == f"http://{project['slug']}.{stack.domain}/"

    live = stack.site(project["slug"])
    assert live.status_code == 200
    assert live.headers["Content-Type"].startswith("text/html")
    assert "is-number says 5 is a number: true" in live.text
    assert stack.site(project["slug"], deployment_id=done["id"]).text == live.text
    assert (
        stack.site(project["slug"], "/app.js").headers["Content-Type"].startswith("text/javascript")
    )
    assert stack.site(project["slug"], "/about").status_code == 301
    assert stack.site(project["slug"], "/about/").text == "<h1>About</h1>"
    missing = stack.site(project["slug"], "/nope")
    assert (missing.status_code, missing.text) == (404, "<h1>Custom not found</h1>")

    log = stack.log_text(done["id"])
    for expected in (
        "Package manager: npm (from package-lock.json)",
        "▶ INSTALLING",
        "built npm",
        "Output: dist/ — 4 files",
    ):
        assert expected in log
    # Earlier tests may have cached this very lock file: installed or restored, never neither.
    assert "$ npm ci" in log or "Skipping `npm ci`" in log


@pytest.mark.parametrize("manager", ["yarn", "pnpm"])
def test_yarn_and_pnpm_sites_install_with_their_own_manager(stack, make_repo, site_files, manager):
    repo = make_repo(site_files(manager))
    project = stack.create_project(repo)
    done = stack.wait(stack.deploy(project["id"])["deployment_id"])

    assert done["status"] == "deployed", stack.log_text(done["id"])
    assert done["detected"]["package_manager"] == manager
    assert f"$ {manager} install --frozen-lockfile" in stack.log_text(done["id"])
    assert f"Built with {manager}" in stack.site(project["slug"]).text


def test_a_failing_build_fails_clearly_and_keeps_the_live_site(stack, make_repo):
    repo = make_repo(script_site("mkdir -p dist && echo v1 > dist/index.html"))
    project = stack.create_project(repo)
    first = stack.wait(stack.deploy(project["id"])["deployment_id"])
    assert first["status"] == "deployed"

    repo.commit(script_site("echo 'Module not found: ./missing' >&2; exit 3"), "Break it")
    failed = stack.wait(stack.deploy(project["id"])["deployment_id"])

    assert failed["status"] == "failed"
    assert failed["error"] == "build_failed"
    assert "exited with code 3" in failed["error_message"]
    stderr = [line for line in stack.log_lines(failed["id"]) if line["stream"] == "stderr"]
    assert any("Module not found: ./missing" in line["text"] for line in stderr)
    assert stack.site(project["slug"]).text == "v1\n"
    assert (
        stack.api("GET", f"/projects/{project['id']}").json()["live_deployment_id"] == (first["id"])
    )


def test_missing_output_names_what_the_build_produced(stack, make_repo):
    repo = make_repo(script_site("mkdir -p generated && echo hi > generated/index.html"))
    project = stack.create_project(repo)
    failed = stack.wait(stack.deploy(project["id"])["deployment_id"])

    assert failed["error"] == "output_missing"
    assert "the build produced: generated/" in failed["error_message"]
    assert stack.site(project["slug"]).status_code == 404


def test_a_repository_without_package_json_fails_with_advice(stack, make_repo):
    repo = make_repo({"index.html": "<h1>plain</h1>"})
    project = stack.create_project(repo)
    failed = stack.wait(stack.deploy(project["id"])["deployment_id"])

    assert failed["error"] == "no_package_json"
    assert "set the root directory" in failed["error_message"]


def test_cancel_during_a_long_build_stops_everything(stack, make_repo):
    project, deployment_id, sleep = start_endless_build(stack, make_repo, repeat=2)
    assert processes_matching(f"sleep {sleep}")

    asked = time.monotonic()
    assert stack.api("POST", f"/deployments/{deployment_id}/cancel").status_code == 200
    done = stack.wait(deployment_id, timeout=10)
    stopped_after = time.monotonic() - asked

    assert done["status"] == "cancelled"
    assert stopped_after < 5
    assert processes_matching(f"sleep {sleep}") == []
    assert containers_of(stack, deployment_id) == []
    assert not (stack.base / "data" / "builds" / "worker-a" / str(deployment_id)).exists()
    assert stack.api("POST", f"/deployments/{deployment_id}/cancel").status_code == 409
    assert stack.site(project["slug"], deployment_id=deployment_id).status_code == 404


def test_a_build_that_runs_past_its_timeout_is_stopped(stack, make_repo):
    sleep = marker()
    repo = make_repo(script_site(f"echo started; sleep {sleep}"))
    project = stack.create_project(repo)
    done = stack.wait(stack.deploy(project["id"])["deployment_id"], timeout=60)

    assert done["status"] == "failed"
    assert done["error"] == "timeout"
    assert "build step timed out" in done["error_message"]
    assert processes_matching(f"sleep {sleep}") == []


def counting_site(lines: int) -> dict[str, str]:
    script = (
        f"for (let i = 1; i <= {lines}; i++) console.log('line ' + i);"
        "require('fs').mkdirSync('dist');"
        "require('fs').writeFileSync('dist/index.html', 'ok');"
    )
    return script_site("node count.js", **{"count.js": script})


def log_events(stack, deployment_id: int, last_event_id: str | None = None, stop=None):
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    response = stack.http.get(
        f"{stack.base_url}/api/v1/deployments/{deployment_id}/events",
        headers=headers,
        stream=True,
        timeout=60,
    )
    assert response.headers["Content-Type"].startswith("text/event-stream")
    with response:
        yield from read_events(response, stop or (lambda e: False))


def test_a_20000_line_burst_arrives_complete_and_in_order(stack, make_repo):
    repo = make_repo(counting_site(20_000))
    project = stack.create_project(repo)
    deployment_id = stack.deploy(project["id"])["deployment_id"]

    events = list(log_events(stack, deployment_id))

    assert events[-1].event == "end"
    texts = [json.loads(e.data)["text"] for e in events if e.event == "log"]
    numbered = [t for t in texts if t.startswith("line ")]
    assert numbered == [f"line {i}" for i in range(1, 20_001)]
    ids = [int(e.id) for e in events if e.id]
    assert ids == sorted(set(ids))
    assert json.loads([e for e in events if e.event == "status"][-1].data)["status"] == ("deployed")


def test_a_viewer_resumes_from_last_event_id_without_gap_or_duplicate(stack, make_repo):
    repo = make_repo(counting_site(300))
    project = stack.create_project(repo)
    deployment_id = stack.deploy(project["id"])["deployment_id"]

    first = list(
        log_events(
            stack,
            deployment_id,
            stop=lambda e: e.event == "log" and json.loads(e.data)["text"] == "line 100",
        )
    )
    rest = list(log_events(stack, deployment_id, last_event_id=first[-1].id))

    ids = [int(e.id) for e in first + rest if e.id]
    assert ids == list(range(1, ids[-1] + 1))
    texts = [json.loads(e.data)["text"] for e in first + rest if e.event == "log"]
    assert [t for t in texts if t.startswith("line ")] == [f"line {i}" for i in range(1, 301)]
    assert rest[-1].event == "end"


def test_a_viewer_who_opens_after_the_build_gets_the_whole_log(stack, make_repo):
    repo = make_repo(counting_site(50))
    project = stack.create_project(repo)
    done = stack.wait(stack.deploy(project["id"])["deployment_id"])

    started = time.monotonic()
    events = list(log_events(stack, done["id"]))

    assert time.monotonic() - started < 10  # the stream ends by itself
    assert events[-1].event == "end"
    texts = [json.loads(e.data)["text"] for e in events if e.event == "log"]
    assert texts == [line["text"] for line in stack.log_lines(done["id"])]
    assert "line 50" in texts


def test_a_consumer_killed_mid_build_leaves_nothing_behind(stack, make_repo):
    _, deployment_id, sleep = start_endless_build(stack, make_repo)

    stack.consumer.stop(signal.SIGKILL)
    time.sleep(1)
    if stack.runner == "local":  # its builds die with it; containers wait for the reaper
        assert processes_matching(f"sleep {sleep}") == []
    stack.restart_consumer()
    lost = stack.wait(deployment_id, timeout=30)

    assert processes_matching(f"sleep {sleep}") == []
    assert containers_of(stack, deployment_id) == []
    assert lost["status"] == "failed"
    assert lost["error"] == "worker_lost"
    assert "stopped responding" in stack.log_text(deployment_id)
    # The restarted consumer takes new work.
    other = stack.create_project(make_repo(script_site("mkdir dist && echo ok > dist/a.html")))
    assert stack.wait(stack.deploy(other["id"])["deployment_id"])["status"] == "deployed"


def test_bad_input_is_refused_and_stores_nothing(stack, make_repo, tmp_path):
    repo = make_repo(script_site("true"))
    project = stack.create_project(repo)
    before = stack.api("GET", f"/projects/{project['id']}/deployments").json()["deployments"]

    unknown_branch = stack.api(
        "POST", f"/projects/{project['id']}/deploy", json={"branch": "does-not-exist"}
    )
    duplicate = stack.api(
        "POST", "/projects", json={"name": project["name"], "repo_url": str(repo.path)}
    )
    malformed = stack.api(
        "POST", "/projects", data="{not json", headers={"Content-Type": "application/json"}
    )
    unreachable = stack.create_project(type(repo)(tmp_path / "nowhere"))
    no_repo = stack.api("POST", f"/projects/{unreachable['id']}/deploy")

    assert unknown_branch.status_code == 422
    assert "Branch 'does-not-exist' was not found" in unknown_branch.json()["error"]
    assert duplicate.status_code == 422 and "exists already" in duplicate.json()["error"]
    assert malformed.status_code == 400 and "JSON object" in malformed.json()["error"]
    assert (
        no_repo.status_code == 422 and "Could not read the repository" in (no_repo.json()["error"])
    )
    after = stack.api("GET", f"/projects/{project['id']}/deployments").json()["deployments"]
    assert after == before
    assert stack.api("GET", f"/projects/{unreachable['id']}/deployments").json() == {
        "deployments": []
    }


def test_the_dashboard_needs_a_login_but_sites_do_not(stack, make_repo):
    anonymous = requests.get(f"{stack.base_url}/api/v1/projects", timeout=10)
    assert anonymous.status_code == 401
    page = requests.get(f"{stack.base_url}/", timeout=10, allow_redirects=False)
    assert page.status_code == 302 and "/login" in page.headers["Location"]


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM twice"])
def test_stopping_the_consumer_now_stops_its_builds_and_says_so(stack, make_repo, how):
    _, deployment_id, sleep = start_endless_build(stack, make_repo)

    started = time.monotonic()
    if how == "SIGTERM twice":
        stack.consumer.proc.send_signal(signal.SIGTERM)  # drain: the build goes on
        time.sleep(1.5)
        assert stack.deployment(deployment_id)["status"] == "building"
        exit_code = stack.consumer.stop(signal.SIGTERM, timeout=15)
    else:
        exit_code = stack.consumer.stop(signal.SIGINT, timeout=15)
    stopped_after = time.monotonic() - started
    stack.restart_consumer()

    done = stack.deployment(deployment_id)
    assert exit_code == 0 and stopped_after < 10
    assert (done["status"], done["error"]) == ("failed", "worker_stopped")
    assert "Deploy again" in done["error_message"]
    assert processes_matching(f"sleep {sleep}") == []


def test_sigterm_lets_running_builds_finish_and_starts_no_new_one(stack, make_repo):
    repo = make_repo(script_site("echo started; sleep 3; mkdir -p dist; echo ok > dist/index.html"))
    project = stack.create_project(repo, supersede=False)  # one build at a time per project
    running = stack.deploy(project["id"])["deployment_id"]
    wait_for_log(stack, running, "started")
    waiting = stack.deploy(project["id"])["deployment_id"]
    drains_before = stack.consumer.log().count("Draining")

    exit_code = stack.consumer.stop(signal.SIGTERM, timeout=60)
    finished, left = stack.deployment(running), stack.deployment(waiting)
    drains = stack.consumer.log().count("Draining") - drains_before
    stack.restart_consumer()

    assert exit_code == 0
    assert finished["status"] == "deployed", stack.log_text(running)
    assert left["status"] == "queued"  # not started by the draining consumer
    assert drains == 1
    assert stack.wait(waiting)["status"] == "deployed"  # the next consumer takes it


@pytest.mark.parametrize("stack", ["docker"], indirect=True)
def test_a_project_can_pick_its_node_version(stack, make_repo, site_files):
    # Only the Docker runner has a Node.js per project; the local one uses the host's.
    repo = make_repo(site_files("npm"))
    project = stack.create_project(repo, node_version="18")
    done = stack.wait(stack.deploy(project["id"])["deployment_id"])

    assert done["status"] == "deployed", stack.log_text(done["id"])
    assert "<p>node v18." in stack.site(project["slug"]).text
    assert "image slipway-node:18 (Node.js 18)" in stack.log_text(done["id"])


def test_builds_wait_for_a_slot_and_show_their_place_in_line(stack, make_repo):
    # The consumer has two slots and each project one: two projects build at
    # once, a second deploy of the first project waits, and so does a third
    # project once the slots are full.
    # (Superseding is off: here a second deploy of the branch must wait, not replace.)
    first, first_id, _ = start_endless_build(stack, make_repo, supersede=False)
    _, second_id, _ = start_endless_build(stack, make_repo)
    same_project = stack.deploy(first["id"])["deployment_id"]
    third = stack.create_project(make_repo(script_site("mkdir dist; echo 3 > dist/a.html")))
    third_id = stack.deploy(third["id"])["deployment_id"]
    time.sleep(3)

    assert stack.deployment(first_id)["status"] == "building"
    assert stack.deployment(second_id)["status"] == "building"
    waiting = [stack.deployment(d) for d in (same_project, third_id)]
    assert [(d["status"], d["queue_position"]) for d in waiting] == [("queued", 1), ("queued", 2)]

    stack.api("POST", f"/deployments/{second_id}/cancel")
    assert stack.wait(third_id, timeout=60)["status"] == "deployed"
    assert stack.deployment(same_project)["status"] == "queued"
    stack.api("POST", f"/deployments/{first_id}/cancel")
    assert (
        stack.wait(same_project, until={"building", "failed", "deployed"}, timeout=30)["status"]
        == "building"
    )
    stack.api("POST", f"/deployments/{same_project}/cancel")
    assert stack.wait(same_project, timeout=10)["status"] == "cancelled"


def test_rolling_back_is_a_pointer_swap_visible_at_once(stack, make_repo):
    repo = make_repo(script_site("mkdir -p dist && echo v1 > dist/index.html"))
    project = stack.create_project(repo)
    first = stack.wait(stack.deploy(project["id"])["deployment_id"])
    repo.commit(script_site("mkdir -p dist && echo v2 > dist/index.html"), "v2")
    second = stack.wait(stack.deploy(project["id"])["deployment_id"])
    repo.commit(script_site("exit 1"), "broken")
    broken = stack.wait(stack.deploy(project["id"])["deployment_id"])
    assert stack.site(project["slug"]).text == "v2\n"

    rolled_back = stack.api("POST", f"/deployments/{first['id']}/promote")
    assert rolled_back.status_code == 200 and rolled_back.json()["is_live"] is True
    assert stack.site(project["slug"]).text == "v1\n"  # the very next request
    assert stack.deployment(second["id"])["is_live"] is False
    refused = stack.api("POST", f"/deployments/{broken['id']}/promote")
    assert (
        refused.status_code == 409
        and "only a deployed build can go live" in refused.json()["error"]
    )
    assert stack.site(project["slug"]).text == "v1\n"
    assert stack.api("POST", f"/deployments/{second['id']}/promote").status_code == 200
    assert stack.site(project["slug"]).text == "v2\n"


def test_a_newer_deploy_of_a_branch_supersedes_the_running_one(stack, make_repo):
    project, running, sleep = start_endless_build(stack, make_repo)
    newer = stack.deploy(project["id"])["deployment_id"]
    stopped = stack.wait(running, timeout=30)
    assert stopped["status"] == "cancelled" and stopped["error"] == "superseded"
    assert stopped["error_message"] == f"Superseded by deployment #{newer}."
    assert not processes_matching(f"sleep {sleep}")
    assert stack.wait(newer, until={"building"}, timeout=60)["status"] == "building"
    stack.api("POST", f"/deployments/{newer}/cancel")
    assert stack.wait(newer, timeout=30)["status"] == "cancelled"
