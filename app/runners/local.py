"""The local runner: a subprocess on this machine, sandboxed by bubblewrap when present."""

import shutil
import subprocess
import threading
from pathlib import Path

from app.runners.base import LineCallback, RunResult
from app.runners.process import run_process


def bwrap_works() -> bool:
    """Tell whether bubblewrap is installed and allowed to create a sandbox here."""
    if not shutil.which("bwrap"):
        return False
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "true"], capture_output=True, timeout=10
    )
    return probe.returncode == 0


class LocalRunner:
    name = "local"

    def __init__(self, hidden: list[Path], readable: list[Path] = (), sandbox: bool | None = None):
        # `hidden` are host paths a build must not read (Slipway's own data:
        # the database, keys); the build's own directories are bound back in.
        # `readable` are bound back read-only, since they may live under /tmp
        # or under a hidden path (the build tools of a checkout in /tmp).
        self.hidden = [Path(p) for p in hidden]
        self.readable = [Path(p) for p in readable]
        self.sandbox = bwrap_works() if sandbox is None else sandbox

    def describe(self) -> str:
        if self.sandbox:
            return (
                "local runner, bubblewrap sandbox: read-only host, writable checkout, "
                "cache and /tmp, own PID namespace"
            )
        return "local runner, no sandbox (install bubblewrap to isolate builds)"

    def run(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        on_line: LineCallback,
        cancel: threading.Event,
        writable: list[Path],
    ) -> RunResult:
        argv = ["sh", "-c", command]
        if self.sandbox:
            argv = self._bwrap_argv(cwd, writable) + argv
        return run_process(argv, cwd=cwd, env=env, timeout=timeout, on_line=on_line, cancel=cancel)

    def _bwrap_argv(self, cwd: Path, writable: list[Path]) -> list[str]:
        argv = [
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--die-with-parent",
            "--new-session",
        ]
        for path in self.hidden:
            argv += ["--tmpfs", str(path)]
        for path in self.readable:
            argv += ["--ro-bind-try", str(path), str(path)]
        for path in writable:
            argv += ["--bind", str(path), str(path)]
        return [*argv, "--chdir", str(cwd)]
