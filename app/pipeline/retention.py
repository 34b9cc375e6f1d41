"""Retention: keep the files of a project's last N deployments, and always the live one."""

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Deployment, Project, Status
from app.pipeline import state
from app.storage import make_storage


def prune_project(project: Project) -> list[int]:
    """Delete the files of deployments past the project's limit; return their ids."""
    keep = project.keep_deployments or current_app.config["RETAIN_DEPLOYMENTS"]
    published = db.session.scalars(
        select(Deployment.id)
        .where(
            Deployment.project_id == project.id,
            Deployment.status == Status.DEPLOYED,
            Deployment.pruned_at.is_(None),
        )
        .order_by(Deployment.id.desc())
    ).all()
    store = make_storage(current_app.config)
    pruned = []
    for deployment_id in published[keep:]:
        # Marked first, in a statement that skips the live deployment, so a
        # rollback to it at this moment either wins or is refused.
        if state.mark_pruned(deployment_id):
            store.delete(deployment_id)
            pruned.append(deployment_id)
    return pruned


def prune_all() -> int:
    """Apply retention to every project (settings may have changed since the last deploy)."""
    count = 0
    for project in db.session.scalars(select(Project)).all():
        count += len(prune_project(project))
    return count
