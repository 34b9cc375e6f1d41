"""Projects in the API."""

from flask import abort, jsonify
from sqlalchemy import select

from app.api import bp, error, json_body
from app.api.serialize import deployment_json, project_json
from app.cache import cache_summary, modules_cache
from app.deploys import start_deployment
from app.extensions import db
from app.models import Deployment, Project
from app.pipeline.git import RepoError
from app.projects import ValidationError, create_project, update_project


def get_project(project_id: int) -> Project:
    return db.get_or_404(Project, project_id, description=f"Project {project_id} not found.")


@bp.post("/projects")
def create():
    """Create a project."""
    try:
        project = create_project(json_body())
    except ValidationError as exc:
        return error(str(exc), 422, fields=exc.errors)
    return jsonify(project_json(project)), 201


@bp.get("/projects")
def index():
    """List projects."""
    projects = db.session.scalars(select(Project).order_by(Project.name)).all()
    return jsonify(projects=[project_json(p) for p in projects])


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    """Show one project."""
    return jsonify(project_json(get_project(project_id)))


@bp.patch("/projects/<int:project_id>")
def update(project_id: int):
    """Change a project's settings."""
    project = get_project(project_id)
    try:
        update_project(project, json_body())
    except ValidationError as exc:
        return error(str(exc), 422, fields=exc.errors)
    return jsonify(project_json(project))


@bp.delete("/projects/<int:project_id>")
def delete(project_id: int):
    """Delete a project; refused while one of its builds runs."""
    from app.projects import delete_project

    project = get_project(project_id)
    if not delete_project(project):
        return error("A build of this project is running; cancel it first.", 409)
    return "", 204


@bp.post("/projects/<int:project_id>/deploy")
def deploy(project_id: int):
    """Queue a deployment of the project's branch (or the given one)."""
    project = get_project(project_id)
    branch = json_body().get("branch")
    if branch is not None and not isinstance(branch, str):
        abort(400, "'branch' must be a string.")
    try:
        deployment = start_deployment(project, branch)
    except ValidationError as exc:
        return error(str(exc), 422, fields=exc.errors)
    except RepoError as exc:
        return error(str(exc), 422)
    return jsonify(
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
    removed, freed = modules_cache().clear_project(get_project(project_id).id)
    return jsonify(removed=removed, bytes=freed)
