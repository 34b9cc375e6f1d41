"""/healthz and /metrics: what operators and Prometheus read."""

from app.extensions import db
from app.metrics import sse_clients
from app.models import Deployment, Project, Status


def test_healthz_reports_each_dependency_with_its_latency(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json["status"] == "ok"
    checks = answer.json["checks"]
    assert {"database", "broker", "storage"} <= set(checks)
    assert checks["database"]["kind"] == db.engine.dialect.name
    assert checks["storage"]["kind"] == "local"
    assert all(c["ok"] and c["latency_ms"] >= 0 for c in checks.values() if c["required"])


def test_healthz_fails_when_the_broker_is_unreachable(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json["status"] == "failing"
    assert answer.json["checks"]["broker"] == {
        "ok": False,
        "kind": "redis",
        "latency_ms": answer.json["checks"]["broker"]["latency_ms"],
        "required": True,
        "error": "ConnectionError",
    }


def test_metrics_count_deployments_steps_workers_and_cache(client):
    project = Project(name="S", slug="s", repo_url="/r", branch="main")
    rows = [
        Deployment(project=project, branch="main", commit_sha="a" * 40, status=Status.QUEUED),
        Deployment(project=project, branch="main", commit_sha="b" * 40, status=Status.BUILDING,
                   worker_id="worker-a"),
        Deployment(project=project, branch="main", commit_sha="c" * 40, status=Status.DEPLOYED,
                   step_durations={"clone": 0.4, "install": 42.0}, detected={"cache": "hit"}),
        Deployment(project=project, branch="main", commit_sha="d" * 40, status=Status.FAILED,
                   step_durations={"clone": 2.0}, detected={"cache": "miss"}),
    ]  # fmt: skip
    db.session.add_all(rows)
    db.session.commit()
    sse_clients.set(0)
    text = client.get("/metrics").text
    for line in (
        'slipway_deployments{status="queued"} 1.0',
        'slipway_deployments{status="deployed"} 1.0',
        'slipway_deployments{status="cancelled"} 0.0',
        "slipway_queue_depth 1.0",
        'slipway_running_builds{worker="worker-a"} 1.0',
        'slipway_step_duration_seconds_bucket{le="1.0",step="clone"} 1.0',
        'slipway_step_duration_seconds_bucket{le="5.0",step="clone"} 2.0',
        'slipway_step_duration_seconds_count{step="install"} 1.0',
        'slipway_cache_installs_total{outcome="hit"} 1.0',
        "slipway_sse_clients 0.0",
    ):
        assert line in text, line
