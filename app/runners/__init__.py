"""Runners execute one shell command of a build and stream its output.

Every runner offers the same narrow interface, so the pipeline never knows
whether a step ran in a local sandbox or (later) in a container:

    runner.run(command, cwd=..., env=..., timeout=..., on_line=..., cancel=...)
        -> RunResult
"""

from app.config import BUILD_TOOLS_DIR
from app.runners.base import Runner, RunResult
from app.runners.local import LocalRunner


def make_runner(config) -> Runner:
    """Pick the runner BUILD_RUNNER asks for; 'auto' takes the best one available."""
    choice = config["BUILD_RUNNER"]
    if choice not in ("auto", "local"):
        raise ValueError(f"BUILD_RUNNER={choice!r} is not available; use 'auto' or 'local'.")
    return LocalRunner(hidden=[config["DATA_DIR"]], readable=[BUILD_TOOLS_DIR])


__all__ = ["LocalRunner", "RunResult", "Runner", "make_runner"]
