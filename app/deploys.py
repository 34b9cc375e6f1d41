"""Start and cancel deployments: write the row first, then enqueue its id."""

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.logs import LogWriter, connect_redis
from app.models import Deployment, Project, Status
from app.models.deployment import ACTIVE
from app.pipeline import git, state
from app.projects import ValidationError, check_branch


def start_deployment(project: Project, branch: str | None = None) -> Deployment:
    """Resolve the branch head, record a queued deployment and enqueue it.

    Raises ValidationError for a bad branch name and git.RepoError when the
    repository or branch cannot be read; nothing is stored then.
    """
    from app.tasks import build_deployment  # the task module imports the app factory

    branch = branch or project.branch
    problem = check_branch(branch)
    if problem:
        raise ValidationError({"branch": problem})
    sha = git.resolve_branch(project.repo_url, branch)
    deployment = Deployment(project=project, branch=branch, commit_sha=sha, status=Status.QUEUED)
    db.session.add(deployment)
    db.session.commit()
    deployment.task_id = build_deployment(deployment.id).id
    db.session.commit()
    return deployment


def cancel_deployment(deployment: Deployment) -> bool:
    """Stop a deployment; False when it had already ended."""
    if state.cancel_queued(deployment.id):
        log = LogWriter(deployment.id, redis=connect_redis(current_app.config["REDIS_URL"]))
        log.system("Cancelled before the build started.")
        log.status(Status.CANCELLED, None, "cancelled")
        log.close(expire_after=current_app.config["LOG_STREAM_TTL"])
        return True
    return state.request_cancel(deployment.id)


def is_building(project: Project) -> bool:
    """Tell whether any deployment of the project is queued or running."""
    query = select(Deployment.id).where(
        Deployment.project_id == project.id, Deployment.status.in_(list(ACTIVE))
    )
    return db.session.scalar(query.limit(1)) is not None
