"""The audit trail: who did what to a project, and when. Never a secret value."""

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Project


def record(project: Project | int, action: str, commit: bool = True, **detail) -> None:
    """Note an action by the current user (or by Slipway itself outside a request)."""
    user = current_user if has_request_context() and current_user.is_authenticated else None
    project_id = project if isinstance(project, int) else project.id
    db.session.add(
        AuditEvent(
            project_id=project_id,
            user_id=user.id if user else None,
            username=user.username if user else "slipway",
            action=action,
            detail=detail,
        )
    )
    if commit:
        db.session.commit()


def recent(project: Project, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.project_id == project.id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )
