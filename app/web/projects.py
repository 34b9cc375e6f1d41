"""Project pages: list, create, show (with deployments), settings, deploy."""

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app.access import project_or_404, visible_projects
from app.cache import cache_summary, modules_cache
from app.deploys import QueueFull, is_building, start_deployment
from app.extensions import db
from app.models import Deployment, Project
from app.pipeline.git import RepoError
from app.projects import ValidationError, create_project, delete_project, update_project
from app.web.forms import ProjectForm
from app.web.project_access import settings_context

bp = Blueprint("projects", __name__)
PAGE_SIZE = 20


def get_project(project_id: int, action: str = "view") -> Project:
    return project_or_404(project_id, action)


@bp.get("/")
def index():
    """List projects."""
    return render_template("projects/index.html", projects=visible_projects())


@bp.route("/projects/new", methods=["GET", "POST"])
def new():
    """Create a project from a Git URL."""
    form = ProjectForm()
    if form.validate_on_submit():
        try:
            project = create_project(form.values(), owner=current_user)
        except ValidationError as exc:
            form.show_errors(exc.errors)
        else:
            flash(f"Project {project.name} created. Press Deploy to build it.")
            return redirect(url_for("projects.show", project_id=project.id))
    return render_template("projects/new.html", form=form)


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    """Show a project with its deployments."""
    project = get_project(project_id)
    deployments = db.session.scalars(
        select(Deployment)
        .where(Deployment.project_id == project.id)
        .order_by(Deployment.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return render_template(
        "projects/show.html",
        cache=cache_summary(project),
        project=project,
        deployments=deployments,
        building=is_building(project),
        activity=audit.recent(project, limit=15),
    )


@bp.get("/projects/<int:project_id>/controls")
def controls(project_id: int):
    """The Deploy button, which says when a build is in progress."""
    project = get_project(project_id)
    return render_template(
        "projects/_controls.html", project=project, building=is_building(project)
    )


@bp.post("/projects/<int:project_id>/deploy")
def deploy(project_id: int):
    """Queue a deployment from the Deploy button."""
    project = get_project(project_id, "deploy")
    try:
        deployment = start_deployment(project)
    except (RepoError, ValidationError, QueueFull) as exc:
        return _deploy_failed(project, str(exc))
    if deployment.enqueue_warning:
        flash(deployment.enqueue_warning, "warning")
    if not request.headers.get("HX-Request"):
        return redirect(url_for("projects.show", project_id=project.id))
    response = make_response(
        render_template("deployments/_card.html", d=deployment, open_logs=True)
    )
    response.headers["HX-Trigger"] = "deployments-changed"
    return response


def _deploy_failed(project: Project, message: str):
    if not request.headers.get("HX-Request"):
        flash(message, "error")
        return redirect(url_for("projects.show", project_id=project.id))
    response = make_response(
        render_template(
            "projects/_controls.html", project=project, building=is_building(project), error=message
        )
    )
    response.headers["HX-Retarget"] = "#deploy-controls"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.route("/projects/<int:project_id>/settings", methods=["GET", "POST"])
def settings(project_id: int):
    """Change how a project is built, who works on it and what its builds are given."""
    project = get_project(project_id, "manage")
    form = ProjectForm(obj=project)
    if form.validate_on_submit():
        try:
            update_project(project, form.values())
        except ValidationError as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            flash("Settings saved. They apply from the next deploy.")
            return redirect(url_for("projects.show", project_id=project.id))
    return render_template("projects/settings.html", **settings_context(project, form))


@bp.post("/projects/<int:project_id>/cache/clear")
def clear_cache(project_id: int):
    """Clear the project's build cache from its settings page."""
    project = get_project(project_id, "manage")
    removed, freed = modules_cache().clear_project(project.id)
    audit.record(project, "cache_cleared", entries=removed)
    entries = "entry" if removed == 1 else "entries"
    flash(
        f"Build cache cleared: {removed} {entries}, {freed / 1024**2:.1f} MB. The next "
        "deploy installs dependencies afresh."
    )
    return redirect(url_for("projects.show", project_id=project.id))


@bp.post("/projects/<int:project_id>/delete")
def delete(project_id: int):
    """Delete a project and its published sites."""
    project = get_project(project_id, "manage")
    if request.form.get("confirm") != project.slug:
        flash(f"Type '{project.slug}' to confirm deleting the project.", "error")
        return redirect(url_for("projects.settings", project_id=project.id))
    if not delete_project(project):
        flash("A build of this project is running; cancel it first.", "error")
        return redirect(url_for("projects.settings", project_id=project.id))
    flash(f"Project {project.name} deleted.")
    return redirect(url_for("projects.index"))
