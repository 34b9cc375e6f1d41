"""Prometheus metrics at /metrics, read from the database at scrape time.

Builds run in consumer processes and pages in web processes; counting from
the database gives every process the same answer without a multiprocess
registry. Only log viewers and the live-log readers they share are per
process (each web process reports its own).
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select

from app.extensions import db
from app.models import Deployment, Status
from app.pipeline.state import RUNNING

STEP_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
SCRAPE_WINDOW = 2000  # recent deployments whose step times make the histograms

registry = CollectorRegistry()
sse_clients = Gauge(
    "slipway_sse_clients", "Log viewers connected to this web process", registry=registry
)
log_feeds = Gauge(
    "slipway_log_feeds",
    "Deployments this web process reads the live log of (one reader each, shared by viewers)",
    registry=registry,
)


class DatabaseCollector:
    def collect(self):
        yield self._by_status()
        yield self._queue_depth()
        yield self._running_per_worker()
        recent = db.session.execute(
            select(Deployment.step_durations, Deployment.detected)
            .order_by(Deployment.id.desc())
            .limit(SCRAPE_WINDOW)
        ).all()
        yield _step_histogram([row[0] or {} for row in recent])
        yield _cache_outcomes([row[1] or {} for row in recent])

    def _by_status(self):
        family = GaugeMetricFamily(
            "slipway_deployments", "Deployments by status", labels=["status"]
        )
        counts = dict(db.session.execute(
            select(Deployment.status, func.count()).group_by(Deployment.status)
        ).all())  # fmt: skip
        for status in Status:
            family.add_metric([status.value], counts.get(status, 0))
        return family

    def _queue_depth(self):
        depth = db.session.scalar(
            select(func.count()).select_from(Deployment).where(Deployment.status == Status.QUEUED)
        )
        return GaugeMetricFamily("slipway_queue_depth", "Deployments waiting to start", depth)

    def _running_per_worker(self):
        family = GaugeMetricFamily(
            "slipway_running_builds", "Builds running, per worker", labels=["worker"]
        )
        rows = db.session.execute(
            select(Deployment.worker_id, func.count())
            .where(Deployment.status.in_(RUNNING))
            .group_by(Deployment.worker_id)
        ).all()
        for worker, count in rows:
            family.add_metric([worker or "unknown"], count)
        return family


def _step_histogram(durations: list[dict]):
    family = HistogramMetricFamily(
        "slipway_step_duration_seconds",
        f"Seconds per pipeline step, over the last {SCRAPE_WINDOW} deployments",
        labels=["step"],
    )
    for step in ("clone", "install", "build", "verify", "upload"):
        values = [d[step] for d in durations if isinstance(d.get(step), int | float)]
        buckets = [(str(b), sum(1 for v in values if v <= b)) for b in STEP_BUCKETS]
        buckets.append(("+Inf", len(values)))
        family.add_metric([step], buckets, sum(values))
    return family


def _cache_outcomes(detected: list[dict]):
    family = CounterMetricFamily(
        "slipway_cache_installs",
        f"Installs by dependency-cache outcome, over the last {SCRAPE_WINDOW} deployments",
        labels=["outcome"],
    )
    for outcome in ("hit", "miss"):
        family.add_metric([outcome], sum(1 for d in detected if d.get("cache") == outcome))
    return family


registry.register(DatabaseCollector())


def exposition() -> tuple[bytes, str]:
    return generate_latest(registry), CONTENT_TYPE_LATEST
