"""Members, variables, the audit trail and API tokens in the API."""

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select

from app import audit
from app import variables as project_variables
from app.access import project_or_404, token_project_id
from app.api import bp, error, json_body
from app.extensions import db
from app.members import members_of, remove_member, set_member
from app.models import Target, Variable
from app.projects import ValidationError
from app.tokens import issue_token, revoke, token_json, tokens_of
from app.variables import set_variable, variables_of


@bp.get("/projects/<int:project_id>/members")
def members(project_id: int):
    """List the project's members and their roles."""
    project = project_or_404(project_id)
    return jsonify(
        members=[{"username": m.user.username, "role": m.role.value} for m in members_of(project)]
    )


@bp.put("/projects/<int:project_id>/members")
def put_member(project_id: int):
    """Add a member or change their role: {username, role}."""
    project = project_or_404(project_id, "manage")
    body = json_body()
    member = set_member(project, body.get("username"), body.get("role"))
    return jsonify(username=member.user.username, role=member.role.value)


@bp.delete("/projects/<int:project_id>/members/<username>")
def delete_member(project_id: int, username: str):
    """Take a user off the project (the last owner stays)."""
    project = project_or_404(project_id, "manage")
    try:
        removed = remove_member(project, username)
    except ValidationError as exc:
        db.session.rollback()
        return error(str(exc), 409, fields=exc.errors)
    return ("", 204) if removed else error(f"{username} is not a member.", 404)


@bp.get("/projects/<int:project_id>/variables")
def variables(project_id: int):
    """List variables; secret values are never returned."""
    project = project_or_404(project_id, "manage")
    return jsonify(variables=[v.to_dict() for v in variables_of(project)])


@bp.put("/projects/<int:project_id>/variables")
def put_variable(project_id: int):
    """Create or replace a variable: {name, value, secret?, target?}."""
    project = project_or_404(project_id, "manage")
    variable = set_variable(project, json_body())
    return jsonify(variable.to_dict())


@bp.delete("/projects/<int:project_id>/variables/<name>")
def delete_variable(project_id: int, name: str):
    """Delete a variable (?target=production|preview|all, default all)."""
    project = project_or_404(project_id, "manage")
    target = request.args.get("target", "all")
    if target not in {t.value for t in Target}:
        return error("target must be all, production or preview.", 400)
    found = db.session.scalar(
        select(Variable).where(
            Variable.project_id == project.id, Variable.name == name, Variable.target == target
        )
    )
    if found is None:
        return error(f"No variable {name} for {target} deploys.", 404)
    project_variables.delete_variable(project, found)
    return "", 204


@bp.get("/projects/<int:project_id>/audit")
def audit_trail(project_id: int):
    """The project's recent activity, newest first."""
    project = project_or_404(project_id)
    return jsonify(events=[event.to_dict() for event in audit.recent(project, limit=200)])


@bp.get("/tokens")
def list_tokens():
    """Your API tokens (never their values)."""
    return jsonify(tokens=[token_json(t) for t in tokens_of(current_user)])


@bp.post("/tokens")
def create_token():
    """Create a token: {name, expires_in_days?, project_id?}; the value is in this answer only."""
    if token_project_id() is not None:
        return error("A token restricted to one project cannot create tokens.", 403)
    token, plain = issue_token(current_user, json_body())
    return jsonify(token=plain, **token_json(token)), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    """Revoke one of your tokens."""
    if not revoke(current_user, token_id):
        return error(f"You have no usable token {token_id}.", 404)
    return "", 204
