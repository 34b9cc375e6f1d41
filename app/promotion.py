"""Going live: the pointer swap, then the alias record and the CDN purge that follow it."""

from flask import current_app

from app import audit
from app.cdn import changed_urls, purge
from app.extensions import db
from app.models import Deployment, Project, Status
from app.pipeline import state
from app.sites import live_url
from app.storage import make_storage


def promote(deployment: Deployment) -> str | None:
    """Make a deployed build live (a rollback when it is older); return why not, or None."""
    if deployment.status != Status.DEPLOYED:
        return (
            f"Deployment #{deployment.id} is {deployment.status.value}; "
            "only a deployed build can go live."
        )
    if deployment.pruned_at is not None:
        return (
            f"Deployment #{deployment.id}'s files were deleted to keep the project's last "
            "deployments; deploy its commit again instead."
        )
    previous = deployment.project.live_deployment_id
    if not state.promote(deployment):
        return f"Deployment #{deployment.id} changed meanwhile; reload and try again."
    audit.record(deployment.project_id, "promoted", deployment=deployment.id, previous=previous)
    if previous != deployment.id:
        from app.tasks import sync_live_site_task  # the task module imports the pipeline

        sync_live_site_task(deployment.project_id, previous)
    return None


def sync_live_site(project_id: int, previous_id: int | None) -> list[str]:
    """Point the storage alias at the live deployment and purge what changed; say what was done."""
    project = db.session.get(Project, project_id)
    if project is None or project.live_deployment_id is None:
        return []
    store = make_storage(current_app.config)
    store.write_alias(project.slug, project.live_deployment_id)
    done = [f"Alias {project.slug} → deployment #{project.live_deployment_id} written."]
    old = store.manifest(previous_id) if previous_id else None
    new = store.manifest(project.live_deployment_id)
    if new is not None:
        purged = purge(current_app.config, project, changed_urls(live_url(project), old, new))
        if purged:
            done.append(f"CDN: {purged}.")
    return done
