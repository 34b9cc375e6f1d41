"""Give up on builds whose worker is gone, so nothing stays 'building' forever."""

import shutil
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from app.extensions import db
from app.logs import LogWriter, connect_redis
from app.models import Deployment, Status
from app.models.user import utcnow
from app.pipeline import state
from app.pipeline.state import RUNNING
from app.runners import docker_answers


def reap_stale() -> list[int]:
    """Fail running deployments whose heartbeat stopped HEARTBEAT_TIMEOUT ago."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["HEARTBEAT_TIMEOUT"])
    query = select(Deployment.id, Deployment.worker_id).where(
        Deployment.status.in_(RUNNING),
        or_(Deployment.heartbeat_at < cutoff, Deployment.heartbeat_at.is_(None)),
    )
    return [d for d, worker in db.session.execute(query).all() if _fail_lost(d, worker)]


def reap_worker(worker_id: str) -> list[int]:
    """At a consumer's start, fail what an earlier run of the same worker left running."""
    query = select(Deployment.id).where(
        Deployment.status.in_(RUNNING), Deployment.worker_id == worker_id
    )
    lost = [d for d in db.session.scalars(query).all() if _fail_lost(d, worker_id)]
    shutil.rmtree(Path(current_app.config["BUILDS_DIR"]) / worker_id, ignore_errors=True)
    if docker_answers():
        from app.runners.docker import LABEL_WORKER, remove_containers

        remove_containers(current_app.config["INSTANCE_ID"], **{LABEL_WORKER: worker_id})
    return lost


def reap_containers() -> int:
    """Remove build containers whose deployment has ended (or no longer exists)."""
    if not docker_answers():
        return 0
    from app.runners.docker import LABEL_DEPLOYMENT, slipway_containers

    removed = 0
    for container in slipway_containers(current_app.config["INSTANCE_ID"]):
        deployment = db.session.get(Deployment, int(container.labels[LABEL_DEPLOYMENT]))
        if deployment is None or deployment.status.is_terminal:
            container.remove(force=True)
            removed += 1
    return removed


def _fail_lost(deployment_id: int, worker_id: str | None) -> bool:
    """Stop what is left of a lost build, then mark it; False if it had ended already."""
    _remove_leftovers(deployment_id, worker_id)
    message = (
        f"The worker running this build ({worker_id or 'unknown'}) stopped responding. "
        "Deploy again; if this repeats, check the worker's logs."
    )
    if not state.finish(deployment_id, Status.FAILED, "worker_lost", message):
        return False
    log = LogWriter(deployment_id, redis=connect_redis(current_app.config["REDIS_URL"]))
    log.system(f"Error: {message}")
    log.status(Status.FAILED, None, "worker_lost")
    log.close(expire_after=current_app.config["LOG_STREAM_TTL"])
    return True


def _remove_leftovers(deployment_id: int, worker_id: str | None) -> None:
    """Containers first, so the build is stopped before anyone is told it ended."""
    if docker_answers():
        from app.runners.docker import LABEL_DEPLOYMENT, remove_containers

        remove_containers(
            current_app.config["INSTANCE_ID"], **{LABEL_DEPLOYMENT: str(deployment_id)}
        )
    if worker_id:  # the checkout is left behind when the worker shares this machine
        builds = Path(current_app.config["BUILDS_DIR"])
        shutil.rmtree(builds / worker_id / str(deployment_id), ignore_errors=True)
