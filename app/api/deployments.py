"""Deployments, their logs and their live event stream."""

import functools
import json

from flask import Response, current_app, jsonify, request, stream_with_context

from app.access import deployment_or_404
from app.api import bp, error
from app.api.serialize import deployment_json
from app.deploys import cancel_deployment
from app.extensions import db
from app.log_feeds import follow_batches
from app.logs import LogEvent, live_redis, read_from_db
from app.metrics import sse_clients
from app.models import Deployment
from app.promotion import promote as promote_deployment


def get_deployment(deployment_id: int, action: str = "view") -> Deployment:
    return deployment_or_404(deployment_id, action)


@bp.get("/deployments/<int:deployment_id>")
def deployment(deployment_id: int):
    """Show a deployment: status, step, error, timings, url."""
    return jsonify(deployment_json(get_deployment(deployment_id)))


@bp.post("/deployments/<int:deployment_id>/cancel")
def cancel(deployment_id: int):
    """Cancel a queued or running deployment."""
    found = get_deployment(deployment_id, "deploy")
    if not cancel_deployment(found):
        return error(f"Deployment {deployment_id} has already ended ({found.status.value}).", 409)
    db.session.expire_all()
    return jsonify(deployment_json(get_deployment(deployment_id)))


@bp.post("/deployments/<int:deployment_id>/promote")
def promote(deployment_id: int):
    """Make a deployed build live (a rollback when it is older): no rebuild."""
    refused = promote_deployment(get_deployment(deployment_id, "deploy"))
    if refused:
        return error(refused, 409)
    db.session.expire_all()
    return jsonify(deployment_json(get_deployment(deployment_id)))


@bp.get("/deployments/<int:deployment_id>/logs")
def logs(deployment_id: int):
    """Return stored log lines after ?after=<seq>, and whether the log is complete."""
    found = get_deployment(deployment_id)
    after = _int_arg("after", 0)
    status = found.status
    events = read_from_db(deployment_id, after)
    lines = [e.to_dict() for e in events if not e.is_status]
    last = events[-1].seq if events else after
    return jsonify(
        lines=lines,
        last_seq=last,
        status=status.value,
        done=status.is_terminal and len(events) < 5000,
    )


@bp.get("/deployments/<int:deployment_id>/events")
def events(deployment_id: int):
    """Stream the log as server-sent events; resumes from Last-Event-ID."""
    get_deployment(deployment_id)
    after = _int_arg("after", 0)
    last_event_id = request.headers.get("Last-Event-ID", "")
    if last_event_id.isdigit():
        after = int(last_event_id)
    only_status = request.args.get("only") == "status"
    stream = _event_stream(deployment_id, after, only_status, current_app.config["SSE_HEARTBEAT"])
    return Response(
        stream_with_context(stream),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _event_stream(deployment_id: int, after: int, only_status: bool, heartbeat: int):
    sse_clients.inc()
    try:
        yield "retry: 2000\n\n"
        for batch in follow_batches(deployment_id, after, redis=live_redis(), idle=heartbeat):
            if not batch:
                yield ": heartbeat\n\n"
            elif frames := "".join(sse_frame(e) for e in batch if e.is_status or not only_status):
                yield frames  # a burst goes out in one write
        yield "event: end\ndata: {}\n\n"
    finally:
        sse_clients.dec()  # also when the viewer goes away mid-stream


@functools.lru_cache(maxsize=4096)
def sse_frame(event: LogEvent) -> str:
    """The event as server-sent; cached, since every viewer of a build sends the same."""
    if event.is_status:
        return f"id: {event.seq}\nevent: status\ndata: {event.text}\n\n"
    return f"id: {event.seq}\nevent: log\ndata: {json.dumps(event.to_dict())}\n\n"


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else default
