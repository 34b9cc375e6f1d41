"""A project's members and their roles; a project always keeps at least one owner."""

from sqlalchemy import func, select

from app import audit
from app.extensions import db
from app.models import Project, ProjectMember, Role, User
from app.projects import ValidationError


def members_of(project: Project) -> list[ProjectMember]:
    return sorted(project.members, key=lambda m: (m.role != Role.OWNER, m.user.username))


def set_member(project: Project, username, role) -> ProjectMember:
    """Add a user to the project, or change their role."""
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": "Use owner, deployer or viewer."})
    user = (
        db.session.scalar(select(User).where(User.username == username))
        if isinstance(username, str)
        else None
    )
    if user is None:
        raise ValidationError(
            {"username": "No user has that name; an administrator creates users first."}
        )
    member = next((m for m in project.members if m.user_id == user.id), None)
    if member is not None and member.role == Role.OWNER and role != Role.OWNER:
        _keep_an_owner(project)
    if member is None:
        member = ProjectMember(user_id=user.id, role=Role(role))
        project.members.append(member)
    member.role = Role(role)
    audit.record(project, "member_set", commit=False, member=user.username, role=role)
    db.session.commit()
    return member


def remove_member(project: Project, username: str) -> bool:
    member = next((m for m in project.members if m.user.username == username), None)
    if member is None:
        return False
    if member.role == Role.OWNER:
        _keep_an_owner(project)
    project.members.remove(member)
    audit.record(project, "member_removed", commit=False, member=username)
    db.session.commit()
    return True


def _keep_an_owner(project: Project) -> None:
    owners = db.session.scalar(
        select(func.count(ProjectMember.id)).where(
            ProjectMember.project_id == project.id, ProjectMember.role == Role.OWNER
        )
    )
    if owners <= 1:
        raise ValidationError(
            {"role": "A project needs at least one owner; make someone else owner first."}
        )
