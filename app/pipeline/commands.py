"""Install and build: run a command through the build's runner, and say how it ended."""

from app.pipeline.errors import Cancelled, StepFailed

# The environment every build gets; runners add HOME and PATH. Nothing of
# Slipway's own environment (database URL, keys) is passed through.
BASE_ENV = {
    "CI": "true",
    "LANG": "C.UTF-8",
    "NO_UPDATE_NOTIFIER": "1",
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
}
TIMEOUT_SETTINGS = {"install": "INSTALL_TIMEOUT", "build": "BUILD_TIMEOUT"}


def build_env(build) -> dict[str, str]:
    return {
        **BASE_ENV,
        **build.variables,  # the project's, for this environment (app/variables.py)
        "SLIPWAY_DEPLOYMENT_ID": str(build.deployment_id),
        "SLIPWAY_COMMIT_SHA": build.sha,
        "SLIPWAY_BRANCH": build.branch,
    }


def run_step_command(build, plan, command: str, step: str) -> None:
    """Run the install or build command; raise StepFailed saying why it did not work."""
    build.log.system(f"$ {command}")
    setting = TIMEOUT_SETTINGS[step]
    network = step == "install" or build.project.build_network
    result = build.runner.run(
        command,
        cwd=plan.root,
        env=build_env(build),
        timeout=build.config[setting],
        on_line=build.output_line,
        cancel=build.cancel,
        network=network,
        step=step,
    )
    if result.cancelled:
        raise Cancelled()
    if result.timed_out:
        minutes = build.config[setting] / 60
        raise StepFailed(
            "timeout",
            f"The {step} step timed out after {minutes:g} min "
            f"({setting}). Make the {step} faster or raise the limit.",
        )
    if result.out_of_memory:
        raise StepFailed(
            "oom",
            f"The {step} step ran out of memory: it was stopped at the "
            f"limit of {build.config['BUILD_MEMORY']} (BUILD_MEMORY). Use less "
            "memory (e.g. NODE_OPTIONS=--max-old-space-size) or raise the limit.",
        )
    if result.out_of_pids:
        raise StepFailed(
            "pids_limit",
            f"The {step} step hit the limit of "
            f"{build.config['BUILD_PIDS_LIMIT']} processes (BUILD_PIDS_LIMIT); "
            "it was stopped. Check for a runaway loop starting processes.",
        )
    if result.exit_code != 0:
        raise StepFailed(
            f"{step}_failed",
            f"The {step} command `{command}` exited with code "
            f"{result.exit_code}. The log above shows why.",
        )
