"""Who may do what: admins everything; project members by role; others see nothing.

A project a user may not see answers 404 everywhere (pages, API, log streams,
private previews), the same as one that does not exist, so its existence does
not leak. A member whose role does not allow an action gets 403 saying so.
"""

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Deployment, Project, ProjectMember, Role, User

# What each action needs; keep in step with the README's roles table.
ALLOWED = {
    "view": {Role.OWNER, Role.DEPLOYER, Role.VIEWER},
    "deploy": {Role.OWNER, Role.DEPLOYER},
    "manage": {Role.OWNER},
}


def token_project_id() -> int | None:
    """The one project the request's API token is restricted to, if it is."""
    token = g.get("api_token")
    return token.project_id if token is not None else None


def role_of(user: User, project: Project) -> Role | None:
    restricted = token_project_id()
    if restricted is not None and restricted != project.id:
        return None
    if user.is_admin:
        return Role.OWNER
    return db.session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    )


def can(user: User, project: Project, action: str) -> bool:
    return role_of(user, project) in ALLOWED[action]


# Ids past this cannot exist (and some databases refuse to even look them up).
MAX_ID = 2**31 - 1


def project_or_404(project_id: int, action: str = "view") -> Project:
    project = db.session.get(Project, project_id) if 0 < project_id <= MAX_ID else None
    _check(project, action, f"Project {project_id} not found.")
    return project


def deployment_or_404(deployment_id: int, action: str = "view") -> Deployment:
    deployment = db.session.get(Deployment, deployment_id) if 0 < deployment_id <= MAX_ID else None
    _check(
        deployment.project if deployment else None,
        action,
        f"Deployment {deployment_id} not found.",
    )
    return deployment


def _check(project: Project | None, action: str, missing: str) -> None:
    role = role_of(current_user, project) if project is not None else None
    if role is None:
        abort(404, missing)
    if role not in ALLOWED[action]:
        abort(403, f"Your role on {project.name} ({role.value}) does not allow this; ask an owner.")


def visible_projects() -> list[Project]:
    query = select(Project).order_by(Project.name)
    restricted = token_project_id()
    if restricted is not None:
        query = query.where(Project.id == restricted)
    if not current_user.is_admin:
        members = select(ProjectMember.project_id).where(ProjectMember.user_id == current_user.id)
        query = query.where(Project.id.in_(members))
    return list(db.session.scalars(query))


def may_create_projects() -> bool:
    """Any user may create projects, except through a token restricted to one project."""
    return token_project_id() is None
