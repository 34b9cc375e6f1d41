"""Runners, each kind against the same behaviour: streaming, exit codes, timeouts,
cancel, isolation. The Docker runner also proves its limits."""

import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from app.runners.base import Workspace
from app.runners.local import LocalRunner, bwrap_works
from tests.conftest import require_tool

# Network interfaces of the process's network namespace, one a line.
INTERFACES = "sed -n '3,$s/:.*//p' /proc/net/dev | tr -d ' ' | sort"
RUNNER_KINDS = ["local-sandbox", "local-plain", "docker"]
ISOLATED_KINDS = ["local-sandbox", "docker"]


def runner_config(tmp_path, node_image="slipway-node:{version}") -> dict:
    return {
        "DATA_DIR": tmp_path / "data",
        "NODE_IMAGE": node_image,
        "BUILD_MEMORY": "256m",
        "BUILD_CPUS": "1",
        "BUILD_PIDS_LIMIT": 64,
        "BUILD_TMPFS": "64m",
        "BUILD_USER": "1000:1000",
    }


def workspace(tmp_path, node_version=None) -> Workspace:
    checkout = tmp_path / "build" / "src"
    checkout.mkdir(parents=True, exist_ok=True)
    return Workspace(
        deployment_id=int(time.time() * 1000) % 10**9,
        instance_id="test-runner",
        worker_id="test-runner",
        checkout=checkout,
        cache=tmp_path / "cache",
        node_version=node_version,
    )


def make(kind: str, request, tmp_path, node_version=None):
    if kind == "docker":
        from app.runners.docker import DockerRunner

        image = request.getfixturevalue("node_images")
        return DockerRunner(runner_config(tmp_path, image), workspace(tmp_path, node_version))
    sandbox = kind == "local-sandbox"
    if sandbox:
        require_tool("bwrap")
        assert bwrap_works(), "bwrap is installed but cannot create a sandbox here"
    return LocalRunner(runner_config(tmp_path), workspace(tmp_path), sandbox=sandbox)


@pytest.fixture(params=RUNNER_KINDS)
def runner(request, tmp_path):
    return make(request.param, request, tmp_path)


@pytest.fixture(params=ISOLATED_KINDS)
def isolated(request, tmp_path):
    return make(request.param, request, tmp_path)


def run(runner, command, timeout=30, cancel=None, env=None, network=True):
    lines = []
    result = runner.run(
        command,
        cwd=runner.workspace.checkout,
        env=env or {},
        timeout=timeout,
        on_line=lambda s, t: lines.append((s, t.rstrip("\n"))),
        cancel=cancel or threading.Event(),
        network=network,
    )
    return result, lines


def text(lines) -> str:
    return "\n".join(line for _, line in lines)


def tag() -> str:
    return f"{700 + uuid.uuid4().int % 200}.{uuid.uuid4().int % 1000}"


def alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_lines_arrive_with_their_stream_and_exit_code(runner):
    result, lines = run(runner, "echo out; echo err >&2; printf 'no newline'; exit 4")
    assert result.exit_code == 4 and not result.ok
    assert ("stdout", "out") in lines and ("stderr", "err") in lines
    assert ("stdout", "no newline") in lines


def test_a_timeout_kills_the_whole_process_tree(runner):
    sleep = tag()
    started = time.monotonic()
    result, _ = run(runner, f"sleep {sleep} & sleep {sleep}; wait", timeout=1)
    assert result.timed_out
    assert time.monotonic() - started < 5
    assert not alive(f"sleep {sleep}")


def test_cancel_stops_the_command_within_seconds(runner):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    sleep = tag()
    started = time.monotonic()
    result, _ = run(runner, f"trap '' TERM; sleep {sleep}", cancel=cancel)
    assert result.cancelled
    assert time.monotonic() - started < 5
    assert not alive(f"sleep {sleep}")


def test_the_build_gets_only_the_environment_it_is_given(runner, monkeypatch):
    monkeypatch.setenv("SLIPWAY_HOST_SECRET", "do-not-leak")
    result, lines = run(runner, "env", env={"A": "1"})
    assert result.ok
    assert "A=1" in text(lines) and "do-not-leak" not in text(lines)


def test_the_host_stays_read_only_and_the_checkout_writable(isolated):
    outside = Path.home() / f".slipway-test-{uuid.uuid4().hex}.txt"
    result, lines = run(
        isolated, f"echo hi > {outside}; echo hi > /usr/bin/x; echo ok > inside.txt"
    )
    assert not outside.exists() and not Path("/usr/bin/x").exists()
    assert text(lines).count("Read-only file system") == 2 or "can't create" in text(lines)
    assert (isolated.workspace.checkout / "inside.txt").read_text() == "ok\n"
    assert result.exit_code == 0


def test_without_network_a_build_has_only_loopback(isolated):
    # Interfaces, not traffic: nothing is sent anywhere to prove it.
    result, lines = run(isolated, INTERFACES, network=False)
    assert result.ok and [line for _, line in lines] == ["lo"]
    _, lines = run(isolated, INTERFACES, network=True)
    assert len(lines) > 1


def test_the_sandbox_hides_slipway_data(tmp_path, request):
    runner = make("local-sandbox", request, tmp_path)
    data = Path(runner.hidden[0])
    data.mkdir(parents=True)
    (data / "slipway.db").write_text("private")
    result, lines = run(runner, f"ls -A {data}; cat /proc/1/cmdline")
    assert result.ok
    assert "slipway.db" not in text(lines)
    assert text(lines).count("bwrap") == 1  # PID 1 is the sandbox, not the host init


def test_build_tools_under_tmp_stay_visible_in_the_sandbox(tmp_path, request):
    from app.config import BUILD_TOOLS_DIR

    runner = make("local-sandbox", request, tmp_path)
    assert BUILD_TOOLS_DIR in runner.readable
    result, lines = run(runner, "yarn --version && pnpm --version")
    assert result.ok, text(lines)


def test_secrets_of_the_host_stay_out_of_containers(tmp_path, request):
    runner = make("docker", request, tmp_path)
    result, lines = run(
        runner,
        "grep CapEff /proc/self/status; id -u; "
        "ls /var/run/docker.sock 2>&1; cat /proc/self/cgroup | head -1",
    )
    assert result.ok
    assert "CapEff:\t0000000000000000" in text(lines)
    assert ("stdout", "1000") in lines
    assert "No such file" in text(lines)


@pytest.mark.parametrize("version", ["18", "20"])
def test_docker_builds_run_on_the_requested_node_version(tmp_path, request, version):
    runner = make("docker", request, tmp_path, node_version=version)
    result, lines = run(runner, "node --version; npm --version; yarn --version; pnpm --version")
    assert result.ok, text(lines)
    assert lines[0] == ("stdout", f"v{version}") or lines[0][1].startswith(f"v{version}.")


def test_an_unsupported_node_version_names_the_supported_ones(tmp_path, request):
    from app.pipeline.errors import StepFailed

    with pytest.raises(StepFailed) as failure:
        make("docker", request, tmp_path, node_version="14")
    assert failure.value.code == "unsupported_node"
    assert "use one of 16, 18, 20, 22" in failure.value.message


def test_memory_beyond_the_limit_is_reported_as_oom(tmp_path, request):
    runner = make("docker", request, tmp_path)
    result, _ = run(
        runner,
        'node -e "const a = []; for (;;) a.push(Buffer.alloc(32 * 1024 * 1024, 1))"',
        timeout=60,
    )
    assert result.out_of_memory and not result.ok


def test_a_fork_flood_is_stopped_by_the_pid_limit(tmp_path, request):
    runner = make("docker", request, tmp_path)
    sleep = tag()
    peak = []
    watcher = threading.Thread(target=lambda: peak.append(max(_count(sleep) for _ in range(40))))
    watcher.start()
    result, _ = run(
        runner,
        f"i=0; while [ $i -lt 3000 ]; do sleep {sleep} & i=$((i+1)); done; exit 1",
        timeout=60,
    )
    watcher.join()
    assert result.out_of_pids
    assert peak[0] <= 64
    assert _count(sleep) == 0


def _count(pattern: str) -> int:
    time.sleep(0.05)
    found = subprocess.run(["pgrep", "-fc", f"sleep {pattern}"], capture_output=True, text=True)
    return int(found.stdout.strip() or 0)


def test_no_container_outlives_its_step(tmp_path, request):
    from app.runners.docker import slipway_containers

    runner = make("docker", request, tmp_path)
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    run(runner, "sleep 60", cancel=cancel)
    run(runner, "exit 2")
    run(runner, "sleep 60", timeout=1)
    deployment = str(runner.workspace.deployment_id)
    assert slipway_containers("test-runner", **{"org.slipway.deployment": deployment}) == []


@pytest.fixture(autouse=True)
def _clean_home_files():
    yield
    for leftover in Path.home().glob(".slipway-test-*"):
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink()
