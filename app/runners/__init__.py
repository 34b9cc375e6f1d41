"""Runners execute one shell command of a build and stream its output.

Every runner offers the same narrow interface, so the pipeline never knows
whether a step ran in a local sandbox or in a container:

    runner.run(command, cwd=..., env=..., timeout=..., on_line=..., cancel=...)
        -> RunResult
"""

import functools

from app.runners.base import Runner, RunResult, Workspace
from app.runners.local import LocalRunner

RUNNER_KINDS = ("auto", "docker", "local")


class RunnerUnavailable(Exception):
    """The configured runner cannot run here; the message says what to do."""


def runner_kind(config) -> str:
    """Resolve BUILD_RUNNER: 'auto' is Docker when its daemon answers, local otherwise."""
    choice = config["BUILD_RUNNER"]
    if choice not in RUNNER_KINDS:
        raise RunnerUnavailable(
            f"BUILD_RUNNER={choice!r} is unknown; use one of {', '.join(RUNNER_KINDS)}."
        )
    if choice == "auto":
        return "docker" if docker_answers() else "local"
    return choice


@functools.cache
def docker_answers() -> bool:
    from app.runners.docker import docker_client

    try:
        docker_client().ping()
    except Exception:  # no SDK config, no socket, no daemon: all mean "not here"
        return False
    return True


def make_runner(config, workspace: Workspace) -> Runner:
    """The runner for one build, of the kind BUILD_RUNNER selects."""
    if runner_kind(config) == "docker":
        from app.runners.docker import DockerRunner

        return DockerRunner(config, workspace)
    return LocalRunner(config, workspace)


__all__ = [
    "LocalRunner",
    "RunResult",
    "Runner",
    "RunnerUnavailable",
    "Workspace",
    "make_runner",
    "runner_kind",
]
