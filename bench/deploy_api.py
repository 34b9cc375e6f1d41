"""The deploy API under load: 50 clients for 30 s against POST /deploy on a cheap project.

    .venv/bin/python bench/deploy_api.py [--clients 50] [--seconds 30]
                                         [--database sqlite|postgresql]
                                         [--web-workers 1,2]

For each number of gunicorn gevent workers, one after the other in one run,
starts a throwaway Slipway on loopback (Redis queue) with its consumer
stopped, so every accepted deployment stays queued and can be counted
afterwards. Each request resolves the branch head (git
ls-remote of a local repository), stores the row and enqueues the task.
Prints requests per second, p50/p99 latency, and whether every 202 is a
queued deployment in the database (read back through /metrics).
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, redis_server  # noqa: E402
from tests.conftest import GitRepo  # noqa: E402
from tests.sites import script_site  # noqa: E402
from tests.stack import Stack  # noqa: E402


def hammer(url: str, token: str, until: float, results: list, lock: threading.Lock) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    mine = []
    while time.monotonic() < until:
        started = time.perf_counter()
        response = session.post(url, timeout=60)
        mine.append((time.perf_counter() - started, response.status_code))
    with lock:
        results.extend(mine)


def queued_in_database(stack: Stack) -> int:
    metrics = requests.get(f"{stack.base_url}/metrics", timeout=30).text
    line = next(x for x in metrics.splitlines() if x.startswith("slipway_queue_depth "))
    return int(float(line.split()[1]))


def run(work: Path, repo: GitRepo, args, web_workers: int, env: dict) -> dict:
    with redis_server(work / f"redis-{web_workers}") as redis_url:
        stack = Stack(
            work / f"stack-{web_workers}", redis_url=redis_url, web_workers=web_workers, **env
        ).start()
        try:
            stack.consumer.stop()  # accepted deployments stay queued, to be counted
            project = stack.create_project(repo, supersede=False)
            url = f"{stack.base_url}/api/v1/projects/{project['id']}/deploy"
            results, lock = [], threading.Lock()
            until = time.monotonic() + args.seconds
            clients = [
                threading.Thread(target=hammer, args=(url, stack.token, until, results, lock))
                for _ in range(args.clients)
            ]
            started = time.monotonic()
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            elapsed = time.monotonic() - started
            stored = queued_in_database(stack)
        finally:
            stack.stop()
    return {"results": results, "elapsed": elapsed, "stored": stored}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--web-workers", default="1")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slipway-bench-deploy-"))
    (work / "repo").mkdir()
    repo = GitRepo(work / "repo")
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("true"))
    rows = []
    for web_workers in [int(n) for n in args.web_workers.split(",")]:
        env = {"MAX_QUEUED": 0}
        if args.database == "postgresql":
            from tests.postgres import postgres_database

            env["DATABASE_URL"] = postgres_database()
        rows.append((web_workers, run(work, repo, args, web_workers, env)))
    if args.database == "postgresql":
        from tests.postgres import stop_server

        stop_server()
    report(rows, args)


def report(rows: list, args) -> None:
    print(f"Deploy API, {args.clients} clients, {args.seconds} s, {args.database}, Redis queue\n")
    print("| web workers | requests | per second | p50 ms | p99 ms | accepted (202) | others "
          "| queued rows |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    all_counted = True
    for web_workers, row in rows:
        results = row["results"]
        latencies = [seconds * 1000 for seconds, _ in results]
        accepted = sum(1 for _, status in results if status == 202)
        others = sorted({status for _, status in results} - {202})
        all_counted = all_counted and row["stored"] == accepted
        print(
            f"| {web_workers} | {len(results)} | {len(results) / row['elapsed']:.1f} "
            f"| {statistics.median(latencies):.0f} | {percentile(latencies, 99):.0f} "
            f"| {accepted} | {others or 'none'} | {row['stored']} |"
        )
    print(f"\nEvery accepted deployment accounted for: {'yes' if all_counted else 'NO'}")


if __name__ == "__main__":
    main()
