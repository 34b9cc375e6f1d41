"""Project settings beyond the build: members and environment variables."""

from flask import Blueprint, flash, redirect, request, url_for

from app import audit
from app.access import project_or_404
from app.extensions import db
from app.members import members_of, remove_member, set_member
from app.models import Role, Target, Variable
from app.projects import ValidationError
from app.variables import set_variable, variables_of

bp = Blueprint("project_access", __name__)


def settings_context(project, form) -> dict:
    """What the settings page shows besides the build form."""
    return {
        "project": project,
        "form": form,
        "members": members_of(project),
        "roles": [role.value for role in Role],
        "variables": variables_of(project),
        "targets": [target.value for target in Target],
    }


def _back(project_id: int):
    return redirect(url_for("projects.settings", project_id=project_id) + "#access")


def _flash_errors(exc: ValidationError) -> None:
    for message in exc.errors.values():
        flash(message, "error")


@bp.post("/projects/<int:project_id>/members")
def set_member_view(project_id: int):
    """Add a member or change a member's role."""
    project = project_or_404(project_id, "manage")
    username = request.form.get("username", "").strip()
    try:
        set_member(project, username, request.form.get("role", ""))
    except ValidationError as exc:
        db.session.rollback()
        _flash_errors(exc)
    else:
        flash(f"{username} is {request.form['role']} of {project.name}.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/members/<username>/remove")
def remove_member_view(project_id: int, username: str):
    """Take a user off the project."""
    project = project_or_404(project_id, "manage")
    try:
        removed = remove_member(project, username)
    except ValidationError as exc:
        db.session.rollback()
        _flash_errors(exc)
    else:
        flash(f"{username} no longer works on {project.name}." if removed else "No such member.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/variables")
def set_variable_view(project_id: int):
    """Add or replace an environment variable."""
    project = project_or_404(project_id, "manage")
    data = {
        "name": request.form.get("name", "").strip(),
        "value": request.form.get("value", ""),
        "secret": request.form.get("secret") == "y",
        "target": request.form.get("target", "all"),
    }
    try:
        variable = set_variable(project, data)
    except ValidationError as exc:
        db.session.rollback()
        _flash_errors(exc)
        return _back(project_id)
    audit.record(
        project,
        "variable_set",
        commit=False,
        name=variable.name,
        target=variable.target.value,
        secret=variable.is_secret,
    )
    db.session.commit()
    kind = "Secret" if variable.is_secret else "Variable"
    flash(f"{kind} {variable.name} saved; it applies from the next deploy.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/variables/<int:variable_id>/delete")
def delete_variable_view(project_id: int, variable_id: int):
    """Remove an environment variable."""
    project = project_or_404(project_id, "manage")
    variable = db.session.get(Variable, variable_id)
    if variable is None or variable.project_id != project.id:
        flash("That variable does not exist (any more).", "error")
        return _back(project_id)
    db.session.delete(variable)
    audit.record(
        project, "variable_deleted", commit=False, name=variable.name, target=variable.target.value
    )
    db.session.commit()
    flash(f"{variable.name} deleted.")
    return _back(project_id)
