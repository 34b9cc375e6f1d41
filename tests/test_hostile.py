"""Hostile repositories against the Docker runner: none of them hurts the host."""

import subprocess
import threading
import time

import pytest

from tests.sites import script_site
from tests.test_e2e import containers_of, marker, processes_matching, wait_for_log

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack", ["docker"], indirect=True)]


def deploy(stack, make_repo, files, **settings) -> dict:
    project = stack.create_project(make_repo(files), **settings)
    return stack.wait(stack.deploy(project["id"])["deployment_id"], timeout=120)


def test_a_symlink_to_etc_passwd_is_never_published(stack, make_repo):
    done = deploy(
        stack,
        make_repo,
        script_site("mkdir -p dist && echo hi > dist/index.html && ln -s /etc/passwd dist/passwd"),
    )
    assert (done["status"], done["error"]) == ("failed", "unsafe_output")
    assert "dist/passwd (symlink)" in done["error_message"]
    assert stack.site(done["url"] or "x", "/passwd").status_code == 404


def test_a_fork_flood_is_stopped_by_the_process_limit(stack, make_repo):
    sleep = marker()
    peak = []

    def watch():
        counts = []
        for _ in range(100):
            counts.append(len(processes_matching(f"sleep {sleep}")))
            time.sleep(0.05)
        peak.append(max(counts))

    watcher = threading.Thread(target=watch)
    watcher.start()
    done = deploy(
        stack,
        make_repo,
        script_site(f"i=0; while [ $i -lt 3000 ]; do sleep {sleep} & i=$((i+1)); done; exit 1"),
    )
    watcher.join()
    assert (done["status"], done["error"]) == ("failed", "pids_limit")
    assert "limit of 128 processes" in done["error_message"]
    assert 0 < peak[0] <= 128
    assert processes_matching(f"sleep {sleep}") == []


def test_memory_far_beyond_the_limit_ends_as_oom(stack, make_repo):
    hog = "const a = []; for (;;) a.push(Buffer.alloc(64 * 1024 * 1024, 1));"
    done = deploy(stack, make_repo, script_site("node hog.js", **{"hog.js": hog}))
    assert (done["status"], done["error"]) == ("failed", "oom")
    assert "limit of 512m" in done["error_message"]


def test_writing_outside_the_checkout_fails_and_changes_nothing(stack, make_repo):
    done = deploy(
        stack,
        make_repo,
        script_site(
            "echo pwned > /usr/local/bin/node || exit 7; mkdir dist; echo x > dist/index.html"
        ),
    )
    assert (done["status"], done["error"]) == ("failed", "build_failed")
    assert "Read-only file system" in stack.log_text(done["id"])


def test_builds_have_no_capabilities_and_are_not_root(stack, make_repo):
    done = deploy(
        stack,
        make_repo,
        script_site("grep CapEff /proc/self/status; id; mkdir -p dist; echo ok > dist/index.html"),
    )
    log = stack.log_text(done["id"])
    assert done["status"] == "deployed"
    assert "CapEff:\t0000000000000000" in log
    assert "uid=1000(node)" in log
    assert "Limits: memory 512m (no swap)" in log


NETWORKS = "$(sed -n '3,$s/:.*//p' /proc/net/dev | tr -d ' ' | sort | xargs)"


def test_the_build_step_can_be_cut_off_from_the_network(stack, make_repo):
    # Interfaces, not traffic: a build without network has nothing but loopback.
    done = deploy(
        stack,
        make_repo,
        script_site(f"echo build: {NETWORKS}; mkdir -p dist; echo ok > dist/index.html"),
        install_command=f"echo install: {NETWORKS}",
        build_network=False,
    )
    lines = [line["text"] for line in stack.log_lines(done["id"])]
    assert done["status"] == "deployed", lines
    assert "build: lo" in lines
    assert "install: eth0 lo" in lines


def test_cancel_during_install_removes_its_container(stack, make_repo):
    sleep = marker()
    project = stack.create_project(
        make_repo(script_site("true")), install_command=f"echo started; sleep {sleep}"
    )
    deployment_id = stack.deploy(project["id"])["deployment_id"]
    wait_for_log(stack, deployment_id, "started")
    assert containers_of(stack, deployment_id)

    assert stack.api("POST", f"/deployments/{deployment_id}/cancel").status_code == 200
    done = stack.wait(deployment_id, timeout=10)
    assert (done["status"], done["step"]) == ("cancelled", "install")
    assert containers_of(stack, deployment_id) == []
    assert processes_matching(f"sleep {sleep}") == []


def test_docker_ps_shows_no_slipway_container_at_rest(stack):
    time.sleep(1)
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "-a",
            "--filter",
            "label=org.slipway.deployment",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0 and listed.stdout.strip() == ""
