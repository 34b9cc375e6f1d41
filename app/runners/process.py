"""Run a process in its own process group, stream its lines, stop it on demand."""

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from app.runners.base import LineCallback, RunResult

KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL


def _die_with_parent(argv: list[str]) -> list[str]:
    """Have the child get SIGKILL when the consumer dies, so a crash orphans nothing."""
    if shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "KILL", "--", *argv]
    return argv


def run_process(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    on_line: LineCallback,
    cancel: threading.Event,
) -> RunResult:
    """Run `argv`, calling on_line(stream, text) per line, until exit, timeout or cancel."""
    proc = subprocess.Popen(
        _die_with_parent(argv),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    pumps = [
        _start_pump(proc.stdout, "stdout", on_line),
        _start_pump(proc.stderr, "stderr", on_line),
    ]
    timed_out, cancelled = _wait(proc, timeout, cancel)
    for pump in pumps:
        pump.join(timeout=KILL_GRACE)
    return RunResult(exit_code=proc.returncode, timed_out=timed_out, cancelled=cancelled)


def _wait(proc: subprocess.Popen, timeout: float, cancel: threading.Event) -> tuple[bool, bool]:
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        if cancel.wait(0.1):
            kill_group(proc)
            return False, True
        if time.monotonic() >= deadline:
            kill_group(proc)
            return True, False
    # The leader exited; anything it left running in its group goes too.
    _signal_group(proc.pid, signal.SIGKILL)
    return False, False


def kill_group(proc: subprocess.Popen) -> None:
    """Stop the whole process group: SIGTERM, then SIGKILL after a grace period."""
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _start_pump(pipe, stream: str, on_line: LineCallback) -> threading.Thread:
    def pump():
        with pipe:
            for raw in iter(pipe.readline, b""):
                on_line(stream, raw.decode("utf-8", errors="replace"))

    thread = threading.Thread(target=pump, daemon=True, name=f"pump-{stream}")
    thread.start()
    return thread
