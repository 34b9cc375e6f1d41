"""The local runner: streaming, exit codes, timeouts, cancel, sandbox."""

import os
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from app.runners.local import LocalRunner, bwrap_works
from tests.conftest import require_tool


@pytest.fixture(params=["sandbox", "plain"])
def runner(request, tmp_path):
    sandbox = request.param == "sandbox"
    if sandbox:
        require_tool("bwrap")
        assert bwrap_works(), "bwrap is installed but cannot create a sandbox here"
    return LocalRunner(hidden=[tmp_path / "secret"], sandbox=sandbox)


def run(runner, command, tmp_path, timeout=30, cancel=None, env=None):
    lines = []
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    result = runner.run(
        command,
        cwd=work,
        env=env or {"PATH": os.environ["PATH"]},
        timeout=timeout,
        on_line=lambda s, t: lines.append((s, t.rstrip("\n"))),
        cancel=cancel or threading.Event(),
        writable=[work],
    )
    return result, lines


def alive(pattern: str) -> bool:
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_lines_arrive_with_their_stream_and_exit_code(runner, tmp_path):
    result, lines = run(runner, "echo out; echo err >&2; exit 4", tmp_path)
    assert result.exit_code == 4 and not result.ok
    assert ("stdout", "out") in lines and ("stderr", "err") in lines


def test_a_timeout_kills_the_whole_process_tree(runner, tmp_path):
    tag = f"{700 + uuid.uuid4().int % 100}.{uuid.uuid4().int % 1000}"
    started = time.monotonic()
    result, _ = run(runner, f"sleep {tag} & sleep {tag}; wait", tmp_path, timeout=1)
    assert result.timed_out
    assert time.monotonic() - started < 5
    assert not alive(f"sleep {tag}")


def test_cancel_stops_the_command_within_seconds(runner, tmp_path):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    tag = f"{800 + uuid.uuid4().int % 100}.{uuid.uuid4().int % 1000}"
    started = time.monotonic()
    result, _ = run(runner, f"trap '' TERM; sleep {tag}", tmp_path, cancel=cancel)
    assert result.cancelled
    assert time.monotonic() - started < 5
    assert not alive(f"sleep {tag}")


def test_the_build_gets_only_the_environment_it_is_given(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SLIPWAY_HOST_SECRET", "do-not-leak")
    result, lines = run(runner, "env", tmp_path, env={"PATH": os.environ["PATH"], "A": "1"})
    assert result.ok
    printed = "\n".join(text for _, text in lines)
    assert "A=1" in printed and "do-not-leak" not in printed


def test_the_sandbox_keeps_the_host_read_only_and_hides_slipway_data(tmp_path):
    require_tool("bwrap")
    # Paths outside /tmp: inside the sandbox /tmp is a private tmpfs anyway.
    secret = Path.home() / f".slipway-test-{uuid.uuid4().hex}"
    secret.mkdir()
    try:
        (secret / "slipway.db").write_text("private")
        runner = LocalRunner(hidden=[secret], sandbox=True)
        outside = Path.home() / f".slipway-test-{uuid.uuid4().hex}.txt"
        result, lines = run(
            runner,
            f"echo hi > {outside}; ls -A {secret}; cat /proc/1/cmdline; echo ok > inside.txt",
            tmp_path,
        )
        printed = "\n".join(text for _, text in lines)
        assert not outside.exists()
        assert "Read-only file system" in printed
        assert "slipway.db" not in printed
        assert printed.count("bwrap") == 1  # PID 1 is the sandbox, not the host init
        assert (tmp_path / "work" / "inside.txt").read_text() == "ok\n"
        assert result.exit_code == 0
    finally:
        shutil.rmtree(secret)


def test_build_tools_under_tmp_stay_visible_in_the_sandbox(tmp_path):
    require_tool("bwrap")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "yarn").write_text("yarn 1.22")
    command = f"cat {tools / 'yarn'}"
    _, plain = run(LocalRunner(hidden=[], sandbox=True), command, tmp_path)
    result, bound = run(LocalRunner(hidden=[], readable=[tools], sandbox=True), command, tmp_path)
    assert ("stdout", "yarn 1.22") not in plain  # /tmp is private to the sandbox
    assert result.ok and ("stdout", "yarn 1.22") in bound
