"""The dependency cache end to end, on every stack (local runner and Docker runner)."""

import json
import uuid

import pytest

from tests.sites import node_site

pytestmark = pytest.mark.e2e


def deploy(stack, project) -> dict:
    return stack.wait(stack.deploy(project["id"])["deployment_id"])


@pytest.fixture
def npm_files(site_files):
    """The npm site under a name of its own, so no earlier test has cached its lock file."""
    files = dict(site_files("npm"))
    name = f"cache-test-{uuid.uuid4().hex[:8]}"
    package, lock = json.loads(files["package.json"]), json.loads(files["package-lock.json"])
    package["name"] = lock["name"] = lock["packages"][""]["name"] = name
    files["package.json"], files["package-lock.json"] = json.dumps(package), json.dumps(lock)
    return files


def test_a_second_build_restores_node_modules_and_skips_install(stack, make_repo, npm_files):
    project = stack.create_project(make_repo(npm_files))
    cold = deploy(stack, project)
    warm = deploy(stack, project)

    cold_log, warm_log = stack.log_text(cold["id"]), stack.log_text(warm["id"])
    assert cold["status"] == warm["status"] == "deployed", warm_log
    assert "Cache miss" in cold_log and "— no entry" in cold_log
    assert "$ npm ci" in cold_log and "Cached node_modules as" in cold_log
    assert "Cache hit" in warm_log and "Skipping `npm ci`" in warm_log
    assert "$ npm ci" not in warm_log
    assert "is-number says 5 is a number: true" in stack.site(project["slug"]).text


def test_a_changed_lock_file_never_gets_stale_modules(stack, make_repo, npm_files, tmp_path):
    repo = make_repo(npm_files)
    project = stack.create_project(repo)
    deploy(stack, project)
    package = json.loads(npm_files["package.json"])
    package["dependencies"]["is-odd"] = "3.0.1"
    changed = node_site("npm", tmp_path / "changed", package=package)
    repo.commit(changed, "Add is-odd")
    changed_build = deploy(stack, project)

    log = stack.log_text(changed_build["id"])
    assert changed_build["status"] == "deployed", log
    assert "— lock file changed" in log and "$ npm ci" in log


def test_a_build_failing_after_a_hit_is_retried_without_the_cache(stack, make_repo, npm_files):
    package = json.loads(npm_files["package.json"])
    # `npm ci` runs the root postinstall; a hit skips it, so the first build fails.
    package["scripts"]["postinstall"] = "node -e \"require('fs').writeFileSync('marker', '')\""
    package["scripts"]["build"] = "test -f marker && " + package["scripts"]["build"]
    files = {**npm_files, "package.json": json.dumps(package)}
    project = stack.create_project(make_repo(files))
    deploy(stack, project)
    retried = deploy(stack, project)

    log = stack.log_text(retried["id"])
    assert retried["status"] == "deployed", log
    assert "Cache hit" in log
    assert "retrying once without the cache" in log


def test_builds_cannot_write_into_a_cached_file(stack, make_repo, npm_files):
    project = stack.create_project(make_repo(npm_files))
    deploy(stack, project)
    package = json.loads(npm_files["package.json"])
    package["scripts"]["build"] = "echo tampered >> node_modules/is-number/index.js"
    tamper = stack.create_project(make_repo({**npm_files, "package.json": json.dumps(package)}))
    attempt = deploy(stack, tamper)
    log = stack.log_text(attempt["id"])
    assert "Cache hit" in log
    assert "node_modules/is-number/index.js: Permission denied" in log
    # Its retry writes into private files; the entry is untouched, and the
    # original project builds from it again.
    assert "retrying once without the cache" in log
    again = deploy(stack, project)
    assert again["status"] == "deployed" and "Cache hit" in stack.log_text(again["id"])
    assert "is-number says 5 is a number: true" in stack.site(project["slug"]).text


def test_clearing_the_cache_makes_the_next_build_install(stack, make_repo, npm_files):
    project = stack.create_project(make_repo(npm_files))
    deploy(stack, project)
    cleared = stack.api("DELETE", f"/projects/{project['id']}/cache")
    assert cleared.status_code == 200 and cleared.json()["removed"] >= 1
    after = deploy(stack, project)
    log = stack.log_text(after["id"])
    assert "Cache miss" in log and "$ npm ci" in log
    info = stack.api("GET", f"/projects/{project['id']}/cache").json()
    assert info["last"]["outcome"] == "miss" and info["bytes"] > 0
