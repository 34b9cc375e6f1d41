"""Start and cancel deployments: write the row first, then enqueue its id."""

from flask import current_app
from sqlalchemy import func, select

from app import audit
from app.extensions import db
from app.logs import LogWriter, connect_redis
from app.models import Deployment, Project, Status
from app.models.deployment import ACTIVE
from app.models.user import utcnow
from app.pipeline import git, state
from app.projects import ValidationError, check_branch


class QueueFull(Exception):
    """Too many deployments are waiting; the message says how many and when to retry."""

    retry_after = 30


def start_deployment(project: Project, branch: str | None = None) -> Deployment:
    """Resolve the branch head, record a queued deployment and enqueue it.

    Raises ValidationError for a bad branch name, git.RepoError when the
    repository or branch cannot be read, and QueueFull past MAX_QUEUED; nothing
    is stored then. The row is committed before the task is enqueued, so a
    broker that is down loses nothing: `enqueue_warning` says so and the
    dispatcher enqueues it once the broker is back.
    """
    branch = branch or project.branch
    problem = check_branch(branch)
    if problem:
        raise ValidationError({"branch": problem})
    _check_queue_room()
    sha = git.resolve_branch(project.repo_url, branch)
    deployment = Deployment(
        project=project, branch=branch, commit_sha=sha, status=Status.QUEUED, dispatched_at=utcnow()
    )
    db.session.add(deployment)
    db.session.flush()
    audit.record(project, "deploy_started", commit=False, deployment=deployment.id, branch=branch)
    db.session.commit()
    deployment.enqueue_warning = enqueue(deployment)
    return deployment


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
        log = LogWriter(deployment.id, redis=connect_redis(current_app.config["REDIS_URL"]))
        log.system("Cancelled before the build started.")
        log.status(Status.CANCELLED, None, "cancelled")
        log.close(expire_after=current_app.config["LOG_STREAM_TTL"])
    elif not state.request_cancel(deployment.id):
        return False
    audit.record(deployment.project_id, "deploy_cancelled", deployment=deployment.id)
    return True


def is_building(project: Project) -> bool:
    """Tell whether any deployment of the project is queued or running."""
    query = select(Deployment.id).where(
        Deployment.project_id == project.id, Deployment.status.in_(list(ACTIVE))
    )
    return db.session.scalar(query.limit(1)) is not None
