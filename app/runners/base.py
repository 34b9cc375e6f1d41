"""The runner interface."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LineCallback = Callable[[str, str], None]  # (stream, text)


@dataclass(frozen=True)
class Workspace:
    """What one build's runner works on; a runner is made per build."""

    deployment_id: int
    worker_id: str
    instance_id: str  # the Slipway installation, for labels
    checkout: Path  # the repository, writable (/app in a container)
    cache: Path  # HOME: the package managers' download caches, writable
    node_version: str | None = None


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    timed_out: bool = False
    cancelled: bool = False
    out_of_memory: bool = False
    out_of_pids: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled


class Runner(Protocol):
    name: str

    def describe(self) -> list[str]:
        """Lines for the build log saying where and how commands run, with their limits."""

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
        """Run `command` with `sh -c` in `cwd` (inside the checkout), streaming lines."""
