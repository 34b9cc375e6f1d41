"""The local runner: a subprocess on this machine, sandboxed by bubblewrap when present."""

import functools
import os
import shutil
import subprocess
import threading
from pathlib import Path

from app.config import BUILD_TOOLS_DIR
from app.runners.base import LineCallback, RunResult, Workspace
from app.runners.process import run_process


@functools.cache
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

    def __init__(self, config, workspace: Workspace, sandbox: bool | None = None):
        self.workspace = workspace
        # Slipway's own data (database, keys) is hidden from builds; the build's
        # own folders, which may live under it, are bound back in afterwards.
        self.hidden = [Path(config["DATA_DIR"])]
        # Bound back read-only: they may live under /tmp, which is private.
        self.readable = [BUILD_TOOLS_DIR]
        self.writable = [workspace.checkout.parent, workspace.cache]
        self.sandbox = bwrap_works() if sandbox is None else sandbox

    def describe(self) -> list[str]:
        if self.sandbox:
            lines = [
                "Runner: local, bubblewrap sandbox (read-only host, writable checkout, "
                "cache and /tmp, own PID namespace)"
            ]
        else:
            lines = ["Runner: local, no sandbox (install bubblewrap to isolate builds)"]
        wanted, host = self.workspace.node_version, host_node_major()
        if wanted and wanted != host:
            lines.append(
                f"Note: the local runner uses this machine's Node.js "
                f"{host or '(not found)'}, not the requested {wanted}; the Docker "
                "runner uses the requested version."
            )
        return lines

    @property
    def identity(self) -> str:
        """What the cache key needs to know about where installs run."""
        return f"local:node{host_node_major()}"

    def package_manager_major(self, manager: str) -> str:
        return _tool_major(manager)

    def adopt_tree(self, path: Path) -> None:
        """Nothing to hand over: local builds run as this user."""

    def run(
        self,
        command: str,
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        on_line: LineCallback,
        cancel: threading.Event,
        network: bool = True,
        step: str = "build",
    ) -> RunResult:
        self.workspace.cache.mkdir(parents=True, exist_ok=True)
        env = {
            **env,
            "HOME": str(self.workspace.cache),
            "PATH": f"{BUILD_TOOLS_DIR / '.bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
        argv = ["sh", "-c", command]
        if self.sandbox:
            argv = self._bwrap_argv(cwd, network) + argv
        return run_process(argv, cwd=cwd, env=env, timeout=timeout, on_line=on_line, cancel=cancel)

    def _bwrap_argv(self, cwd: Path, network: bool) -> list[str]:
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
            # No capabilities, so even as root a build cannot write into the
            # read-only files of a cached node_modules.
            "--cap-drop",
            "ALL",
        ]
        if not network:
            argv.append("--unshare-net")
        for path in self.hidden:
            argv += ["--tmpfs", str(path)]
        for path in self.readable:
            argv += ["--ro-bind-try", str(path), str(path)]
        for path in self.writable:
            argv += ["--bind", str(path), str(path)]
        return [*argv, "--chdir", str(cwd)]


@functools.cache
def host_node_major() -> str | None:
    """The major version of the Node.js the local runner will use."""
    try:
        version = subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return version.strip().lstrip("v").split(".")[0] or None


@functools.cache
def _tool_major(manager: str) -> str:
    """The major version of a package manager as the local runner finds it."""
    path = f"{BUILD_TOOLS_DIR / '.bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    try:
        version = subprocess.run(
            [manager, "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PATH": path},
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return version.strip().split(".")[0] or "unknown"
