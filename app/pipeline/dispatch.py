"""The dispatcher: every queued deployment has a task, even after the broker lost it.

The database is the source of truth. A task touches `dispatched_at` each time it
looks at its queued deployment (every couple of seconds while it waits for a
slot), so a queued deployment nobody touched for DISPATCH_AFTER seconds has no
live task: the broker was down when it was created, or restarted empty. A
duplicate task is harmless — claiming is a conditional update, one wins.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from app.extensions import db
from app.models import Deployment, Status
from app.models.user import utcnow


def touch(deployment_id: int) -> None:
    db.session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, Deployment.status == Status.QUEUED)
        .values(dispatched_at=utcnow())
    )
    db.session.commit()


def stranded() -> list[int]:
    """Queued deployments no task has looked at for DISPATCH_AFTER seconds, oldest first."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["DISPATCH_AFTER"])
    return list(
        db.session.scalars(
            select(Deployment.id)
            .where(
                Deployment.status == Status.QUEUED,
                or_(Deployment.dispatched_at.is_(None), Deployment.dispatched_at < cutoff),
            )
            .order_by(Deployment.id)
        )
    )


def dispatch_stranded(enqueue) -> list[int]:
    """Enqueue a task for each stranded deployment; return their ids."""
    found = stranded()
    for deployment_id in found:
        touch(deployment_id)
        enqueue(deployment_id)
        current_app.logger.info("deployment %s had no task: enqueued again", deployment_id)
    return found
