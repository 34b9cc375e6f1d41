"""Status changes of a deployment, made with conditional updates.

Several processes touch a deployment (the web process cancels it, a consumer
builds it, the reaper gives up on it), so every change says which statuses it
may start from and only the first one to commit wins.
"""

import enum

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Deployment, Project, Status
from app.models.deployment import ACTIVE, can_transition
from app.models.user import utcnow


def _may_become(status: Status) -> list[Status]:
    """The statuses a deployment may be in to move to `status` (see can_transition)."""
    return [current for current in Status if can_transition(current, status)]


def _transition(deployment_id: int, allowed_from, commit: bool = True, **values) -> bool:
    result = db.session.execute(
        update(Deployment)
        .where(Deployment.id == deployment_id, Deployment.status.in_(list(allowed_from)))
        .values(**values)
    )
    if commit:
        db.session.commit()
    return result.rowcount == 1


RUNNING = [s for s in ACTIVE if s != Status.QUEUED]


class Claim(enum.Enum):
    TAKEN = "taken"  # this worker builds it now
    WAIT = "wait"  # still queued: a concurrency limit is reached, try again soon
    GONE = "gone"  # cancelled while queued, or another worker has it


def claim(
    deployment_id: int, worker_id: str, project_limit: int = 0, global_limit: int = 0
) -> Claim:
    """Take a queued deployment for this worker, if the concurrency limits allow.

    The limits are part of the one UPDATE statement, so two consumers cannot
    both see a free slot and both take it.
    """
    conditions = [Deployment.id == deployment_id, Deployment.status == Status.QUEUED]
    _serialise_claims()
    if project_limit:
        conditions.append(_running(Deployment.project_id) < project_limit)
    if global_limit:
        conditions.append(_running() < global_limit)
    now = utcnow()
    result = db.session.execute(
        update(Deployment)
        .where(*conditions)
        .values(
            status=Status.CLONING,
            step="clone",
            worker_id=worker_id,
            started_at=now,
            heartbeat_at=now,
        )
    )
    db.session.commit()
    if result.rowcount == 1:
        return Claim.TAKEN
    still_queued = (
        db.session.scalar(select(Deployment.status).where(Deployment.id == deployment_id))
        == Status.QUEUED
    )
    return Claim.WAIT if still_queued else Claim.GONE


# Any fixed number: the advisory lock all consumers take to claim one at a time.
CLAIM_LOCK = 7_301_001


def _serialise_claims() -> None:
    """Make concurrent claims take turns where the database would let them overlap.

    SQLite allows one writer at a time, so the UPDATE below cannot race. On
    PostgreSQL (read committed) two consumers could both count a free slot and
    both take it; a transaction-level advisory lock, released at the commit,
    makes them queue for the few milliseconds a claim takes.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))


def _running(project_id=None):
    other = aliased(Deployment)
    query = select(func.count(other.id)).where(other.status.in_(RUNNING))
    if project_id is not None:
        query = query.where(other.project_id == project_id)
    return query.scalar_subquery()


def queue_position(deployment: Deployment) -> int | None:
    """1 for the next queued deployment to start, 2 for the one after it; None if not queued."""
    if deployment.status != Status.QUEUED:
        return None
    ahead = select(func.count(Deployment.id)).where(
        Deployment.status == Status.QUEUED, Deployment.id < deployment.id
    )
    return db.session.scalar(ahead) + 1


def advance(deployment_id: int, status: Status, step: str) -> bool:
    """Move a running deployment to a later status."""
    return _transition(deployment_id, _may_become(status), status=status, step=step)


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
        _may_become(status),
        commit=False,
        status=status,
        error_code=error_code,
        error_message=error_message,
        finished_at=utcnow(),
        cancel_requested=False,
    )
    if changed and live_project_id is not None:
        # Only forward: a build that finishes after a newer one (or after a
        # rollback past it was made) does not take the live address back.
        db.session.execute(
            update(Project)
            .where(
                Project.id == live_project_id,
                or_(
                    Project.live_deployment_id.is_(None), Project.live_deployment_id < deployment_id
                ),
            )
            .values(live_deployment_id=deployment_id)
        )
    db.session.commit()
    return changed


def cancel_queued(
    deployment_id: int,
    message: str = "Cancelled before the build started.",
    superseded_by: int | None = None,
) -> bool:
    """Cancel a deployment that no worker has started."""
    return _transition(
        deployment_id,
        [Status.QUEUED],
        status=Status.CANCELLED,
        error_code="superseded" if superseded_by else "cancelled",
        error_message=message,
        finished_at=utcnow(),
        superseded_by=superseded_by,
    )


def request_cancel(deployment_id: int, superseded_by: int | None = None) -> bool:
    """Ask the worker running a deployment to stop it."""
    return _transition(deployment_id, RUNNING, cancel_requested=True, superseded_by=superseded_by)


def promote(deployment: Deployment) -> bool:
    """Point the project's live address at an earlier (or later) deployed build.

    A pointer swap: nothing is rebuilt or copied, so it takes effect at once.
    """
    result = db.session.execute(
        update(Project)
        .where(
            Project.id == deployment.project_id,
            select(Deployment.id)
            .where(
                Deployment.id == deployment.id,
                Deployment.status == Status.DEPLOYED,
                Deployment.pruned_at.is_(None),  # its files must still be there
            )
            .exists(),
        )
        .values(live_deployment_id=deployment.id)
    )
    db.session.commit()
    return result.rowcount == 1


def mark_pruned(deployment_id: int) -> bool:
    """Claim a deployment's files for deletion, unless it is (or just became) live."""
    live = (
        select(Project.live_deployment_id)
        .where(Project.id == Deployment.project_id)
        .scalar_subquery()
    )
    result = db.session.execute(
        update(Deployment)
        .where(
            Deployment.id == deployment_id,
            Deployment.pruned_at.is_(None),
            or_(live.is_(None), live != Deployment.id),
        )
        .values(pruned_at=utcnow())
    )
    db.session.commit()
    return result.rowcount == 1
