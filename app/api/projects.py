"""Projects in the API."""

from flask import abort, jsonify
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.access import may_create_projects, project_or_404, visible_projects
from app.api import bp, error, json_body
from app.api.serialize import deployment_json, project_json
from app.cache import cache_summary, modules_cache
from app.deploys import QueueFull, start_deployment
from app.extensions import db
from app.models import Deployment, Project
from app.pipeline.git import RepoError
from app.projects import create_project, update_project


def get_project(project_id: int, action: str = "view") -> Project:
    return project_or_404(project_id, action)


@bp.post("/projects")
def create():
    """Create a project; its creator becomes its owner."""
    if not may_create_projects():
        return error("This token is restricted to one project and cannot create others.", 403)
    project = create_project(json_body(), owner=current_user)
    return jsonify(project_json(project)), 201


@bp.get("/projects")
def index():
    """List projects."""
    return jsonify(projects=[project_json(p) for p in visible_projects()])


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    """Show one project."""
    return jsonify(project_json(get_project(project_id)))


@bp.patch("/projects/<int:project_id>")
def update(project_id: int):
    """Change a project's settings."""
    project = get_project(project_id, "manage")
    update_project(project, json_body())
    return jsonify(project_json(project))


@bp.delete("/projects/<int:project_id>")
def delete(project_id: int):
    """Delete a project; refused while one of its builds runs."""
    from app.projects import delete_project

    project = get_project(project_id, "manage")
    if not delete_project(project):
        return error("A build of this project is running; cancel it first.", 409)
    return "", 204


@bp.post("/projects/<int:project_id>/deploy")
def deploy(project_id: int):
    """Queue a deployment of the project's branch (or the given one)."""
    project = get_project(project_id, "deploy")
    branch = json_body().get("branch")
    if branch is not None and not isinstance(branch, str):
        abort(400, "'branch' must be a string.")
    try:
        deployment = start_deployment(project, branch)
    except RepoError as exc:
        return error(str(exc), 422)
    except QueueFull as exc:
        response = error(str(exc), 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    return jsonify(
        warning=deployment.enqueue_warning,
        deployment_id=deployment.id,
        status=deployment.status.value,
        commit_sha=deployment.commit_sha,
        commit_message=deployment.commit_message,
        branch=deployment.branch,
        task_id=deployment.task_id,
        deployment=deployment_json(deployment),
    ), 202


@bp.get("/projects/<int:project_id>/deployments")
def deployments(project_id: int):
    """List a project's deployments, newest first."""
    project = get_project(project_id)
    rows = db.session.scalars(
        select(Deployment)
        .where(Deployment.project_id == project.id)
        .order_by(Deployment.id.desc())
        .limit(100)
    ).all()
    return jsonify(deployments=[deployment_json(d) for d in rows])


@bp.get("/projects/<int:project_id>/cache")
def cache_info(project_id: int):
    """Show the project's build cache: size and the last hit or miss."""
    return jsonify(cache_summary(get_project(project_id)))


@bp.delete("/projects/<int:project_id>/cache")
def clear_cache(project_id: int):
    """Remove every cache entry the project has used; the next build installs afresh."""
    project = get_project(project_id, "manage")
    removed, freed = modules_cache().clear_project(project.id)
    audit.record(project, "cache_cleared", entries=removed)
    return jsonify(removed=removed, bytes=freed)
