"""Status changes of a deployment, made with conditional updates.

Several processes touch a deployment (the web process cancels it, a consumer
builds it, the reaper gives up on it), so every change says which statuses it
may start from and only the first one to commit wins.
"""

from sqlalchemy import update

from app.extensions import db
from app.models import Deployment, Project, Status
from app.models.deployment import ACTIVE
from app.models.user import utcnow


def _transition(deployment_id: int, allowed_from, commit: bool = True, **values) -> bool:
    result = db.session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, Deployment.status.in_(list(allowed_from)))
        .values(**values)
    )
    if commit:
        db.session.commit()
    return result.rowcount == 1


def claim(deployment_id: int, worker_id: str) -> bool:
    """Take a queued deployment for this worker; False if it was cancelled or taken."""
    now = utcnow()
    return _transition(
        deployment_id,
        [Status.QUEUED],
        status=Status.CLONING,
        step="clone",
        worker_id=worker_id,
        started_at=now,
        heartbeat_at=now,
    )


def advance(deployment_id: int, status: Status, step: str) -> bool:
    """Move a running deployment to a later status."""
    allowed = [s for s in ACTIVE if s != Status.QUEUED]
    return _transition(deployment_id, allowed, status=status, step=step)


def finish(
    deployment_id: int,
    status: Status,
    error_code: str | None = None,
    error_message: str | None = None,
    live_project_id: int | None = None,
) -> bool:
    """Record a terminal status; with live_project_id, make this deployment live.

    Both happen in one transaction, so no reader sees a deployed build that is
    not live yet, or a live one that is not marked deployed.
    """
    changed = _transition(
        deployment_id,
        ACTIVE,
        commit=False,
        status=status,
        error_code=error_code,
        error_message=error_message,
        finished_at=utcnow(),
        cancel_requested=False,
    )
    if changed and live_project_id is not None:
        db.session.execute(
            update(Project)
            .where(Project.id == live_project_id)
            .values(live_deployment_id=deployment_id)
        )
    db.session.commit()
    return changed


def cancel_queued(deployment_id: int) -> bool:
    """Cancel a deployment that no worker has started."""
    return _transition(
        deployment_id,
        [Status.QUEUED],
        status=Status.CANCELLED,
        error_code="cancelled",
        error_message="Cancelled before the build started.",
        finished_at=utcnow(),
    )


def request_cancel(deployment_id: int) -> bool:
    """Ask the worker running a deployment to stop it."""
    return _transition(
        deployment_id, [s for s in ACTIVE if s != Status.QUEUED], cancel_requested=True
    )
