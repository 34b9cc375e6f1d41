"""Publishing end to end: guardrails, previews, CDN purge, and storage failing mid-upload."""

import json
import signal
import time

import pytest

from tests.s3 import Seaweed
from tests.sites import script_site
from tests.stack import Stack
from tests.test_publishing import purge_server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.e2e


def pages(*names: str, text: str = "v1") -> str:
    """A build command that writes the given pages (plus index.html) into dist/."""
    writes = " && ".join(f"echo {text}-{name} > dist/{name}.html" for name in names)
    return f"mkdir -p dist && echo {text} > dist/index.html" + (f" && {writes}" if names else "")


def deploy_and_wait(stack, project, **body) -> dict:
    return stack.wait(stack.deploy(project["id"], **body)["deployment_id"])


def test_a_deploy_that_guts_the_site_is_held_as_a_preview(stack, make_repo):
    repo = make_repo(script_site(pages("a", "b", "c", "d", "e")))
    project = stack.create_project(repo)
    first = deploy_and_wait(stack, project)
    assert first["is_live"] and first["held_reason"] is None

    repo.commit(script_site("mkdir -p dist && echo only > dist/a.html"), "oops")
    held = deploy_and_wait(stack, project)
    assert held["status"] == "deployed" and held["is_live"] is False
    assert held["held_reason"] == "it has no index.html, which the live site has."
    assert held["diff"]["removed"] == 5 and held["diff"]["changed"] == 1
    assert "Held back: it has no index.html" in stack.log_text(held["id"])
    assert stack.site(project["slug"]).text == "v1\n"  # live untouched
    assert stack.site(project["slug"], "/a.html", deployment_id=held["id"]).text == "only\n"

    assert stack.api("POST", f"/deployments/{held['id']}/promote").status_code == 200
    assert stack.site(project["slug"], "/a.html").text == "only\n"  # a person decided


def test_the_guardrail_can_be_turned_off_per_project(stack, make_repo):
    repo = make_repo(script_site(pages("a", "b", "c")))
    project = stack.create_project(repo, hold_risky_deploys=False)
    deploy_and_wait(stack, project)
    repo.commit(script_site(pages()), "a one-page site now")
    second = deploy_and_wait(stack, project)
    assert second["is_live"] is True and second["held_reason"] is None
    assert second["diff"]["removed"] == 3
    assert "removed" in stack.log_text(second["id"])


def test_another_branch_deploys_a_preview_and_leaves_live_alone(stack, make_repo):
    repo = make_repo(script_site(pages()))
    project = stack.create_project(repo)
    deploy_and_wait(stack, project)
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit(script_site(pages(text="feature")), "feature work")
    preview = deploy_and_wait(stack, project, branch="feature")
    assert preview["status"] == "deployed" and preview["is_live"] is False
    assert preview["held_reason"] is None
    assert stack.site(project["slug"], deployment_id=preview["id"]).text == "feature\n"
    assert stack.site(project["slug"]).text == "v1\n"
    assert f"Preview at {preview['url']}" in stack.log_text(preview["id"])


def wait_until(check, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} not met after {timeout}s")


def test_going_live_and_rolling_back_purge_the_changed_urls(tmp_path, make_repo, purge_server):  # noqa: F811
    hook, received = purge_server
    stack = Stack(
        tmp_path / "cdn",
        CDN_PURGE_URL=hook + "/purge/{slug}",
        CDN_PURGE_TOKEN="purge-token-7f3a",
    ).start()
    try:
        repo = make_repo(script_site(pages("a", "b")))
        project = stack.create_project(repo, public_url="https://www.example.com")
        first = deploy_and_wait(stack, project)
        assert first["live_url"] == "https://www.example.com/"
        assert received == []  # nothing was live before, so nothing to purge

        repo.commit(script_site(pages("a", "b", text="v2")), "v2")
        second = deploy_and_wait(stack, project)
        changed = [
            "https://www.example.com/",
            "https://www.example.com/a",
            "https://www.example.com/a.html",
            "https://www.example.com/b",
            "https://www.example.com/b.html",
            "https://www.example.com/index.html",
        ]
        slug = project["slug"]
        # The purge follows the status change to deployed, a moment later.
        wait_until(lambda: received, what="the purge")
        assert received == [
            (f"/purge/{slug}", "Bearer purge-token-7f3a", {"project": slug, "urls": changed})
        ]
        purged = "CDN: purged 6 URLs through the purge hook."
        wait_until(lambda: purged in stack.log_text(second["id"]), what="the purge's log line")

        assert stack.api("POST", f"/deployments/{first['id']}/promote").status_code == 200
        wait_until(lambda: len(received) == 2, what="the rollback's purge")
        assert received[1][2]["urls"] == changed
        alias = stack.base / "data" / "sites" / "aliases" / f"{slug}.json"
        wait_until(lambda: json.loads(alias.read_text())["deployment_id"] == first["id"])
    finally:
        stack.stop()


def test_storage_dying_mid_upload_fails_the_deploy_and_keeps_live(tmp_path, make_repo):
    storage = Seaweed(tmp_path / "seaweedfs").start()
    stack = Stack(tmp_path / "stack", STORAGE_URL=storage.url("sites"), STORAGE_RETRIES=2)
    stack.env.update(
        AWS_ACCESS_KEY_ID="slipway-test-key", AWS_SECRET_ACCESS_KEY="slipway-test-secret-6f1c"
    )
    stack.start()
    try:
        repo = make_repo(script_site(pages()))
        project = stack.create_project(repo)
        assert deploy_and_wait(stack, project)["status"] == "deployed"

        many = "seq 1 6000 | xargs -I{} touch dist/f{}.txt"
        repo.commit(script_site(f"{pages(text='v2')} && {many}"), "a big site")
        deployment_id = stack.deploy(project["id"])["deployment_id"]
        wait_until(
            lambda: (
                stack.deployment(deployment_id)["step"] == "upload"
                and len(storage.keys(f"sites/deployments/{deployment_id}/")) > 20
            ),
            timeout=120,
            what="the upload to start",
        )
        storage.service.stop(signal.SIGKILL)

        failed = stack.wait(deployment_id, timeout=180)
        assert failed["status"] == "failed" and failed["error"] == "upload_failed"
        assert "Object storage could not upload" in failed["error_message"]
        assert "the live site is unchanged" in failed["error_message"]
        assert "slipway-test-secret" not in stack.log_text(deployment_id)

        storage.service.start()  # same data and ports: the storage comes back
        storage._create_bucket()
        # Its volume server registers a moment after the S3 port answers.
        wait_until(lambda: stack.site(project["slug"]).text == "v1\n", what="live site back")
        assert stack.site(project["slug"], deployment_id=deployment_id).status_code == 404
        assert (
            storage.client()
            .list_objects_v2(
                Bucket="sites", Prefix=f"sites/deployments/{deployment_id}/manifest.json"
            )
            .get("KeyCount")
            == 0
        )
    finally:
        stack.stop()
        storage.stop()
