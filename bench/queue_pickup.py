"""Queue pickup: from the deploy request to a consumer claiming it (status `cloning`).

    .venv/bin/python bench/queue_pickup.py [--deploys 30]

Starts throwaway Slipways on loopback — the embedded default (SQLite queue)
and one on Redis — each with one idle consumer, and deploys a trivial site
one deployment at a time, waiting for each to finish so the consumer is idle
again. The pickup time is the deployment's `started_at` (set by the claiming
UPDATE) minus its `created_at` (set when the request stored the row), both
taken by the database clock, so no polling interval is in the figure.
"""

import argparse
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, redis_server  # noqa: E402
from tests.conftest import GitRepo  # noqa: E402
from tests.sites import script_site  # noqa: E402
from tests.stack import Stack  # noqa: E402


def seconds_between(start: str, end: str) -> float:
    parse = lambda value: datetime.fromisoformat(value.rstrip("Z"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def measure(stack: Stack, repo: GitRepo, deploys: int) -> list[float]:
    project = stack.create_project(repo)
    pickups = []
    for _ in range(deploys):
        done = stack.wait(stack.deploy(project["id"])["deployment_id"], timeout=60)
        pickups.append(seconds_between(done["created_at"], done["started_at"]))
    return pickups


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deploys", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slipway-bench-pickup-"))
    (work / "repo").mkdir()
    repo = GitRepo(work / "repo")
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("mkdir -p dist && echo ok > dist/index.html"))
    results = {}
    with redis_server(work / "redis") as redis_url:
        for name, redis in (("embedded (SQLite queue)", None), ("Redis", redis_url)):
            stack = Stack(work / name.split()[0], redis_url=redis).start()
            try:
                measure(stack, repo, 2)  # warm up: imports, first connections
                results[name] = measure(stack, repo, args.deploys)
            finally:
                stack.stop()
    print(f"Queue pickup, idle consumer, {args.deploys} deploys each (milliseconds)\n")
    print("| queue | p50 | p99 | max |\n| --- | --- | --- | --- |")
    for name, values in results.items():
        ms = [v * 1000 for v in values]
        print(
            f"| {name} | {statistics.median(ms):.0f} | {percentile(ms, 99):.0f} | {max(ms):.0f} |"
        )


if __name__ == "__main__":
    main()
