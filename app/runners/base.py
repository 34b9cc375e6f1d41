"""The runner interface."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LineCallback = Callable[[str, str], None]  # (stream, text)


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    timed_out: bool = False
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.cancelled


class Runner(Protocol):
    name: str

    def describe(self) -> str:
        """One line for the build log saying where and how commands run."""

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
        """Run `command` with `sh -c`, streaming each output line to `on_line`."""
