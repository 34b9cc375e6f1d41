"""Log latency: from a build writing a line to an SSE viewer receiving it.

    .venv/bin/python bench/log_latency.py [--viewers 1,100,1000] [--lines 40]

Starts a throwaway Slipway on loopback (one gunicorn gevent worker, Redis).
For each viewer count, a build prints `tick <epoch ms>` every 300 ms; that
many viewers follow it over server-sent events (greenlets in this process),
and each line's latency is its arrival time minus the time the build wrote
it (one host, one clock). In the same run, the original design's viewer —
polling the logs endpoint every 2 s — follows an identical build, as the
baseline. The web worker's memory and open files are sampled from /proc four
times a second while viewers watch, and the peak kept. Last, a build prints
20,000 lines at once, and one viewer times the arrival of the last line and
checks that all came, in order.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, percentile, process_figures, redis_server  # noqa: E402
from tests.conftest import GitRepo  # noqa: E402
from tests.sites import script_site  # noqa: E402
from tests.sse import read_events  # noqa: E402
from tests.stack import Stack  # noqa: E402

TICKS_JS = """
let n = 0;
const timer = setInterval(() => {
  console.log("tick " + Date.now());
  if (++n === %d) { clearInterval(timer); require("fs").mkdirSync("dist");
    require("fs").writeFileSync("dist/index.html", "ok"); }
}, 300);
"""
BURST_JS = """
const lines = [];
for (let i = 0; i < 20000; i++) lines.push("burst " + String(i).padStart(5, "0"));
console.log(lines.join("\\n"));
require("fs").mkdirSync("dist"); require("fs").writeFileSync("dist/index.html", "ok");
"""


def sse_viewer(stack: Stack, deployment_id: int, latencies: list, attached: list) -> None:
    response = requests.get(
        f"{stack.base_url}/api/v1/deployments/{deployment_id}/events",
        headers={"Authorization": f"Bearer {stack.token}"},
        stream=True,
        timeout=300,
    )
    attached.append(time.time() * 1000)
    for event in read_events(response):
        if event.event != "log":
            continue
        text = json.loads(event.data)["text"]
        if text.startswith("tick "):
            written = int(text.split()[1])
            latencies.append((written, time.time() * 1000 - written))


def polling_viewer(stack: Stack, deployment_id: int, latencies: list) -> None:
    """The original design: ask for new lines every 2 seconds."""
    after, headers = 0, {"Authorization": f"Bearer {stack.token}"}
    while True:
        page = requests.get(
            f"{stack.base_url}/api/v1/deployments/{deployment_id}/logs",
            params={"after": after}, headers=headers, timeout=30,
        ).json()  # fmt: skip
        now = time.time() * 1000
        for line in page["lines"]:
            if line["text"].startswith("tick "):
                written = int(line["text"].split()[1])
                latencies.append((written, now - written))
        after = page["last_seq"]
        if page["done"]:
            return
        gevent.sleep(2)


def ticking_build(stack: Stack, work: Path, name: str, lines: int) -> int:
    (work / name).mkdir()
    repo = GitRepo(work / name)
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("node ticks.js", **{"ticks.js": TICKS_JS % lines}))
    project = stack.create_project(repo, name=name)
    return stack.deploy(project["id"])["deployment_id"]


def run_viewers(stack: Stack, work: Path, count: int, lines: int) -> dict:
    deployment_id = ticking_build(stack, work, f"sse-{count}", lines)
    latencies, attached, asked = [], [], time.time() * 1000
    greenlets = [gevent.spawn(sse_viewer, stack, deployment_id, latencies, attached)
                 for _ in range(count)]  # fmt: skip
    peak, web = {"memory": 0.0, "fds": 0}, web_worker_pid(stack)
    cpu_before = cpu_seconds(web), cpu_seconds(os.getpid())
    sampler = gevent.spawn(sample_peak, web, peak)
    gevent.joinall(greenlets, timeout=300)
    sampler.kill()
    cpu = cpu_seconds(web) - cpu_before[0], cpu_seconds(os.getpid()) - cpu_before[1]
    stack.wait(deployment_id, timeout=60)
    # Lines written while viewers were still connecting wait for their viewer, not
    # for the fan-out; the steady figures count only lines written after all attached.
    steady = [ms for written, ms in latencies if written > max(attached)]
    return {"latencies": [ms for _, ms in latencies], "steady": steady, "cpu": cpu,
            "figures": (peak["memory"], peak["fds"]), "attach": (max(attached) - asked) / 1000,
            "expected": count * lines}  # fmt: skip


def sample_peak(pid: int, peak: dict) -> None:
    """Keep the web worker's highest memory and open-file count while viewers watch."""
    while True:
        memory, fds = process_figures(pid)
        peak["memory"], peak["fds"] = max(peak["memory"], memory), max(peak["fds"], fds)
        gevent.sleep(0.25)


def web_worker_pid(stack: Stack) -> int:
    """gunicorn's worker (the master's child), which holds the connections."""
    children = Path(f"/proc/{stack.web.proc.pid}/task/{stack.web.proc.pid}/children")
    return int(children.read_text().split()[0])


def burst(stack: Stack, work: Path) -> tuple[float, bool, int]:
    (work / "burst").mkdir()
    repo = GitRepo(work / "burst")
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("node burst.js", **{"burst.js": BURST_JS}))
    project = stack.create_project(repo, name="burst")
    started = time.monotonic()
    deployment_id = stack.deploy(project["id"])["deployment_id"]
    response = requests.get(
        f"{stack.base_url}/api/v1/deployments/{deployment_id}/events",
        headers={"Authorization": f"Bearer {stack.token}"}, stream=True, timeout=300,
    )  # fmt: skip
    received, last_at = [], None
    for event in read_events(response):
        if event.event == "log":
            text = json.loads(event.data)["text"]
            if text.startswith("burst "):
                received.append(text)
                last_at = time.monotonic()
    in_order = received == [f"burst {i:05}" for i in range(20000)]
    return last_at - started, in_order, len(received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", default="1,100,1000")
    parser.add_argument("--lines", type=int, default=40)
    args = parser.parse_args()
    counts = [int(c) for c in args.viewers.split(",")]
    # A thousand viewers are a thousand sockets here and in the web worker (plus
    # its Redis connections): lift the soft limit of 1,024 open files to the hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = Path(tempfile.mkdtemp(prefix="slipway-bench-logs-"))
    rows = []
    with redis_server(work / "redis") as redis_url:
        # gunicorn's gevent worker takes 1,000 connections by default: a thousand
        # viewers plus the benchmark's own API calls need a little more.
        stack = Stack(
            work / "stack", redis_url=redis_url, MAX_QUEUED=0, PROJECT_CONCURRENCY=2,
            GUNICORN_CMD_ARGS="--worker-connections 2000",
        ).start()  # fmt: skip
        try:
            for count in counts:
                rows.append((f"SSE, {count} viewers", run_viewers(stack, work, count, args.lines)))
            polled = []
            baseline = ticking_build(stack, work, "polling", args.lines)
            polling_viewer(stack, baseline, polled)
            baseline_row = {"latencies": [ms for _, ms in polled], "expected": args.lines}
            rows.append(("2 s polling, 1 viewer (baseline)", baseline_row))
            burst_seconds, in_order, burst_count = burst(stack, work)
        finally:
            stack.stop()
    report(rows, args.lines)
    print(f"20,000-line burst: last line after {burst_seconds:.2f} s from the deploy request; "
          f"{burst_count} lines, complete and in order: {'yes' if in_order else 'NO'}")  # fmt: skip


def report(rows: list, lines: int) -> None:
    print(f"Log latency, a line every 300 ms, {lines} lines per viewer (milliseconds)\n")
    print("| viewers | lines received | p50 | p99 | after all attached: p50 | p99 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, row in rows:
        ms, steady = row["latencies"], row.get("steady") or []
        steady_cells = " | "
        if steady:
            steady_cells = f"{statistics.median(steady):.0f} | {percentile(steady, 99):.0f}"
        print(f"| {name} | {len(ms)}/{row['expected']} | {statistics.median(ms):.0f} "
              f"| {percentile(ms, 99):.0f} | {steady_cells} |")  # fmt: skip
    print("\n| viewers | all attached after | web worker RSS | open fds | CPU s: web / viewers |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in rows:
        if row.get("figures"):
            (memory, fds), cpu = row["figures"], row["cpu"]
            print(f"| {name} | {row['attach']:.1f} s | {memory:.0f} MiB | {fds} "
                  f"| {cpu[0]:.1f} / {cpu[1]:.1f} |")  # fmt: skip
    sse_p50 = statistics.median(rows[0][1]["latencies"])
    poll_p50 = statistics.median(rows[-1][1]["latencies"])
    print(f"\nBaseline p50 / SSE p50 (1 viewer): {poll_p50 / sse_p50:.1f}x")


if __name__ == "__main__":
    main()
