"""The deploy API under load: 50 clients for 30 s against POST /deploy on a cheap project.

    .venv/bin/python bench/deploy_api.py [--clients 50] [--seconds 30]
                                         [--database sqlite|postgresql]

Starts a throwaway Slipway on loopback (one gunicorn gevent worker, Redis
queue) with its consumer stopped, so every accepted deployment stays queued
and can be counted afterwards. Each request resolves the branch head (git
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slipway-bench-deploy-"))
    (work / "repo").mkdir()
    repo = GitRepo(work / "repo")
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("true"))
    env = {"MAX_QUEUED": 0}
    if args.database == "postgresql":
        from tests.postgres import postgres_database, stop_server

        env["DATABASE_URL"] = postgres_database()
    with redis_server(work / "redis") as redis_url:
        stack = Stack(work / "stack", redis_url=redis_url, **env).start()
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
            accepted = sum(1 for _, status in results if status == 202)
            stored = queued_in_database(stack)
        finally:
            stack.stop()
            if args.database == "postgresql":
                stop_server()
    latencies = [seconds * 1000 for seconds, _ in results]
    others = sorted({status for _, status in results} - {202})
    print(f"Deploy API, {args.clients} clients, {args.seconds} s, {args.database}, Redis queue\n")
    print("| requests | per second | p50 ms | p99 ms | accepted (202) | others | queued rows |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {len(results)} | {len(results) / elapsed:.1f} | {statistics.median(latencies):.0f} "
        f"| {percentile(latencies, 99):.0f} | {accepted} | {others or 'none'} | {stored} |"
    )
    print(f"\nEvery accepted deployment accounted for: {'yes' if stored == accepted else 'NO'}")


if __name__ == "__main__":
    main()
