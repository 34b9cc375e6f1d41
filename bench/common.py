"""Helpers the benchmarks share: percentiles, a throwaway redis-server, process figures."""

import contextlib
import os
from pathlib import Path

from tests.stack import free_port, redis_service, wait_for_port


def percentile(values: list[float], pct: float) -> float:
    """The value below which `pct` percent of the values fall (nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@contextlib.contextmanager
def redis_server(base: Path):
    port = free_port()
    service = redis_service(base, port).start()
    wait_for_port(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        service.stop()


def process_figures(pid: int) -> tuple[float, int]:
    """Resident memory (MiB) and open file descriptors of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
