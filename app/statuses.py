"""Commit statuses on GitHub: pending while a deployment builds, then how it ended."""

from app.extensions import db
from app.github import GitHubError
from app.models import Connection, Deployment, Status
from app.sites import site_url

STATES = {
    Status.DEPLOYED: ("success", "Deployed"),
    Status.FAILED: ("failure", "Failed"),
    Status.CANCELLED: ("error", "Cancelled"),
}


def report(deployment: Deployment, status: Status, log) -> None:
    """Tell GitHub about the deployment when the project wants it; never fails the deploy."""
    from app.repos import github_for

    project = deployment.project
    wanted = project.git_provider == "github" and project.commit_statuses
    if not (wanted and project.connection_id and project.repo_full_name):
        return
    state, text = STATES.get(status, ("pending", "Building"))
    if status == Status.FAILED and deployment.error_code:
        text = f"Failed: {deployment.error_code}"
    url = site_url(project.slug, deployment.id) if status == Status.DEPLOYED else None
    try:
        github = github_for(db.session.get(Connection, project.connection_id))
        github.set_status(project.repo_full_name, deployment.commit_sha, state, url, text)
    except GitHubError as exc:
        log.system(f"GitHub commit status not reported: {exc}")
