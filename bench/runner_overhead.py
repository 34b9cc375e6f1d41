"""What the Docker runner costs: Slipway's install and build steps against the same
commands run by hand with `docker run`, side by side in one run.

    .venv/bin/python bench/runner_overhead.py [--rounds 7]

Starts a throwaway Slipway (gunicorn + one consumer, BUILD_RUNNER=docker) on
loopback, deploys a small npm site (one registry dependency) `rounds` times,
and in between runs the same `npm ci` and `npm run build` by hand in the same
image with the same mounts and a warm npm cache of its own. Prints medians,
the per-step overhead and the ratio. Needs the slipway-node:20 image
(`make images NODE_VERSIONS=20`).
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import GitRepo  # noqa: E402
from tests.sites import node_site  # noqa: E402
from tests.stack import Stack  # noqa: E402

IMAGE = "slipway-node:{version}"


def make_repo(base: Path) -> GitRepo:
    path = base / "site"
    path.mkdir()
    repo = GitRepo(path)
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(node_site("npm", base / "lock"), "Benchmark site")
    return repo


def by_hand(repo: GitRepo, base: Path, round_no: int) -> dict[str, float]:
    """The same two steps with plain `docker run`, timed from the command line."""
    checkout = base / f"hand-{round_no}"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth=1", repo.path.as_uri(), str(checkout)], check=True
    )
    cache = base / "hand-cache"
    cache.mkdir(exist_ok=True)
    shutil.chown(cache, 1000, 1000)
    subprocess.run(["chown", "-R", "1000:1000", str(checkout)], check=True)
    timings = {}
    for step, command in (("install", "npm ci"), ("build", "npm run build")):
        started = time.monotonic()
        subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "-u",
                "1000:1000",
                "-v",
                f"{checkout}:/app",
                "-v",
                f"{cache}:/home/node",
                "-w",
                "/app",
                IMAGE.format(version="20"),
                "sh",
                "-c",
                command,
            ],
            check=True,
            capture_output=True,
        )
        timings[step] = time.monotonic() - started
    return timings


def through_slipway(stack: Stack, project_id: int) -> dict[str, float]:
    deployment = stack.wait(stack.deploy(project_id)["deployment_id"])
    assert deployment["status"] == "deployed", stack.log_text(deployment["id"])
    return {step: deployment["step_durations"][step] for step in ("install", "build")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    base = Path(tempfile.mkdtemp(prefix="slipway-bench-"))
    stack = Stack(base / "stack", runner="docker", NODE_IMAGE=IMAGE).start()
    try:
        repo = make_repo(base)
        project = stack.create_project(repo)
        through_slipway(stack, project["id"])  # warm both caches once, untimed
        by_hand(repo, base, 0)
        slipway, hand = [], []
        for round_no in range(1, rounds + 1):
            slipway.append(through_slipway(stack, project["id"]))
            hand.append(by_hand(repo, base, round_no))
        report(slipway, hand, rounds)
    finally:
        stack.stop()
        shutil.rmtree(base, ignore_errors=True)


def report(slipway: list[dict], hand: list[dict], rounds: int) -> None:
    print(f"Docker runner overhead, {rounds} rounds, medians (seconds)\n")
    print("| step | slipway | by hand | overhead | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for step in ("install", "build"):
        ours = statistics.median(r[step] for r in slipway)
        theirs = statistics.median(r[step] for r in hand)
        print(
            f"| {step} | {ours:.2f} | {theirs:.2f} | {ours - theirs:+.2f} | {ours / theirs:.2f} |"
        )


if __name__ == "__main__":
    main()
