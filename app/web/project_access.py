"""Project settings beyond the build: members and environment variables."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import audit
from app.access import project_or_404
from app.extensions import db
from app.members import members_of, remove_member, set_member
from app.models import DeployHook, Role, Target, Variable
from app.projects import ValidationError
from app.repos import fernet, webhook_secret
from app.secrets import encrypt
from app.variables import delete_variable, set_variable, variables_of
from app.webhooks import create_deploy_hook, new_webhook_secret, recent_deliveries

bp = Blueprint("project_access", __name__)


def settings_context(project, form, **shown_once) -> dict:
    """What the settings page shows besides the build form."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    return {
        "project": project,
        "form": form,
        "members": members_of(project),
        "roles": [role.value for role in Role],
        "variables": variables_of(project),
        "targets": [target.value for target in Target],
        "hook_base": base.rstrip("/") + "/hooks",
        "webhook_secret": webhook_secret(project),
        "deliveries": recent_deliveries(project),
        "deploy_hooks": db.session.scalars(
            select(DeployHook).where(DeployHook.project_id == project.id).order_by(DeployHook.id)
        ).all(),
        **shown_once,
    }


def _back(project_id: int):
    return redirect(url_for("projects.settings", project_id=project_id) + "#access")


def _child_of(project, model, child_id: int):
    """The project's row of `model` with this id; None if missing or another project's."""
    child = db.session.get(model, child_id)
    return child if child is not None and child.project_id == project.id else None


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
    kind = "Secret" if variable.is_secret else "Variable"
    flash(f"{kind} {variable.name} saved; it applies from the next deploy.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/variables/<int:variable_id>/delete")
def delete_variable_view(project_id: int, variable_id: int):
    """Remove an environment variable."""
    project = project_or_404(project_id, "manage")
    variable = _child_of(project, Variable, variable_id)
    if variable is None:
        flash("That variable does not exist (any more).", "error")
        return _back(project_id)
    delete_variable(project, variable)
    flash(f"{variable.name} deleted.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/webhook-secret")
def new_webhook_secret_view(project_id: int):
    """Make (or replace) the secret push notifications are signed with."""
    project = project_or_404(project_id, "manage")
    new_webhook_secret(project)
    audit.record(project, "webhook_secret_changed")
    flash("New webhook secret made: paste it into the Git host's webhook settings.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/git-token")
def set_git_token_view(project_id: int):
    """Set (or clear) the token used to clone a private repository from any host."""
    project = project_or_404(project_id, "manage")
    token = request.form.get("token", "").strip()
    if token and (len(token) > 500 or any(ch.isspace() for ch in token)):
        flash("That does not look like a token: one line, no spaces.", "error")
        return _back(project_id)
    project.git_token = encrypt(fernet(), token) if token else None
    audit.record(project, "git_token_set" if token else "git_token_cleared", commit=False)
    db.session.commit()
    flash("Clone token saved." if token else "Clone token removed.")
    return _back(project_id)


@bp.post("/projects/<int:project_id>/deploy-hooks")
def create_deploy_hook_view(project_id: int):
    """Create a deploy hook; its URL is shown this once."""
    from app.web.forms import ProjectForm

    project = project_or_404(project_id, "manage")
    try:
        secret = create_deploy_hook(project, request.form.get("name", ""))
    except ValidationError as exc:
        _flash_errors(exc)
        return _back(project_id)
    audit.record(project, "deploy_hook_created", name=request.form.get("name", "").strip())
    url = url_for("hooks.deploy_hook", secret=secret, _external=True)
    if current_app.config.get("PUBLIC_BASE_URL"):
        url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/hooks/deploy/{secret}"
    form = ProjectForm(obj=project)
    return render_template(
        "projects/settings.html", **settings_context(project, form, new_hook_url=url)
    )


@bp.post("/projects/<int:project_id>/deploy-hooks/<int:hook_id>/revoke")
def revoke_deploy_hook_view(project_id: int, hook_id: int):
    """Revoke a deploy hook: its URL stops working at once."""
    project = project_or_404(project_id, "manage")
    hook = _child_of(project, DeployHook, hook_id)
    if hook is None:
        flash("That deploy hook does not exist (any more).", "error")
        return _back(project_id)
    db.session.delete(hook)
    audit.record(project, "deploy_hook_revoked", commit=False, name=hook.name)
    db.session.commit()
    flash(f"Deploy hook {hook.name} revoked.")
    return _back(project_id)
