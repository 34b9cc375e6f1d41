"""For operators: /healthz for load balancers, /metrics for Prometheus."""

from flask import Blueprint, Response, jsonify

from app.health import checks
from app.metrics import exposition

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """Each dependency with its latency; 503 when a required one fails."""
    results = checks()
    healthy = all(r["ok"] for r in results.values() if r["required"])
    response = jsonify(status="ok" if healthy else "failing", checks=results)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics():
    """Deployments by status, step durations, queue depth, running builds, cache, viewers."""
    body, content_type = exposition()
    return Response(body, content_type=content_type)
