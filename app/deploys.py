"""Start and cancel deployments: write the row first, then enqueue its id."""

from flask import current_app
from sqlalchemy import func, select

from app import audit
from app.extensions import db
from app.logs import LogWriter, connect_redis
from app.models import Deployment, Project, Status
from app.models.deployment import ACTIVE
from app.models.user import utcnow
from app.pipeline import state
from app.projects import ValidationError, check_branch


class QueueFull(Exception):
    """Too many deployments are waiting; the message says how many and when to retry."""

    retry_after = 30


def start_deployment(
    project: Project, branch: str | None = None, head=None, trigger: str = "manual"
) -> Deployment:
    """Resolve the branch head, record a queued deployment and enqueue it.

    `head` (a github.Head) skips the lookup when a push notification named the
    commit already. Raises ValidationError for a bad branch name, RepoError
    when the repository or branch cannot be read, and QueueFull past
    MAX_QUEUED; nothing is stored then. The row is committed before the task is
    enqueued, so a broker that is down loses nothing: `enqueue_warning` says so
    and the dispatcher enqueues it once the broker is back.
    """
    from app.repos import resolve_head

    branch = branch or project.branch
    problem = check_branch(branch)
    if problem:
        raise ValidationError({"branch": problem})
    _check_queue_room()
    head = head or resolve_head(project, branch)
    deployment = Deployment(
        project=project,
        branch=branch,
        commit_sha=head.sha,
        commit_message=head.message,
        commit_author=head.author,
        status=Status.QUEUED,
        dispatched_at=utcnow(),
        trigger=trigger,
    )
    db.session.add(deployment)
    db.session.flush()
    audit.record(
        project,
        "deploy_started",
        commit=False,
        deployment=deployment.id,
        branch=branch,
        via=trigger,
    )
    db.session.commit()
    if project.supersede:
        supersede_older(deployment)
    deployment.enqueue_warning = enqueue(deployment)
    return deployment


def supersede_older(newer: Deployment) -> list[int]:
    """Cancel the queued and running deployments of the same branch that `newer` replaces."""
    older = db.session.scalars(
        select(Deployment).where(
            Deployment.project_id == newer.project_id,
            Deployment.branch == newer.branch,
            Deployment.id < newer.id,
            Deployment.status.in_(list(ACTIVE)),
        )
    ).all()
    stopped = []
    for deployment in older:
        message = f"Superseded by deployment #{newer.id} of the same branch."
        if state.cancel_queued(deployment.id, message=message, superseded_by=newer.id):
            _log_cancelled(deployment.id, message)
        elif state.request_cancel(deployment.id, superseded_by=newer.id):
            pass  # its worker stops it and records why (app/pipeline/run.py)
        else:
            continue
        stopped.append(deployment.id)
    return stopped


def _check_queue_room() -> None:
    limit = current_app.config["MAX_QUEUED"]
    if not limit:
        return
    waiting = db.session.scalar(
        select(func.count(Deployment.id)).where(Deployment.status == Status.QUEUED)
    )
    if waiting >= limit:
        raise QueueFull(
            f"{waiting} deployments are waiting already (MAX_QUEUED is {limit}); "
            "try again when some have started."
        )


def enqueue(deployment: Deployment) -> str | None:
    """Hand the deployment to the queue; on failure say so (the row stays queued)."""
    from app.tasks import build_deployment  # the task module imports the app factory

    try:
        deployment.task_id = build_deployment(deployment.id).id
    except Exception as exc:  # the broker is down: Redis refused, timed out, ...
        current_app.logger.warning("deployment %s not enqueued: %s", deployment.id, exc)
        return (
            "The build queue cannot be reached right now. The deployment is saved and will "
            "start once the queue is back; nothing needs to be done."
        )
    db.session.commit()
    return None


def cancel_deployment(deployment: Deployment) -> bool:
    """Stop a deployment; False when it had already ended."""
    if state.cancel_queued(deployment.id):
        _log_cancelled(deployment.id, "Cancelled before the build started.")
    elif not state.request_cancel(deployment.id):
        return False
    audit.record(deployment.project_id, "deploy_cancelled", deployment=deployment.id)
    return True


def _log_cancelled(deployment_id: int, message: str) -> None:
    log = LogWriter(deployment_id, redis=connect_redis(current_app.config["REDIS_URL"]))
    log.system(message)
    log.status(Status.CANCELLED, None, "cancelled")
    log.close(expire_after=current_app.config["LOG_STREAM_TTL"])


def is_building(project: Project) -> bool:
    """Tell whether any deployment of the project is queued or running."""
    query = select(Deployment.id).where(
        Deployment.project_id == project.id, Deployment.status.in_(list(ACTIVE))
    )
    return db.session.scalar(query.limit(1)) is not None
