"""API tokens: named, optionally expiring, optionally restricted to one project."""

from datetime import timedelta

from sqlalchemy import select

from app.access import MAX_ID, project_or_404
from app.extensions import db
from app.models import ApiToken, User
from app.models.user import utcnow
from app.projects import ValidationError

MAX_DAYS = 3650


def issue_token(user: User, data: dict) -> tuple[ApiToken, str]:
    """Create a token from {name, expires_in_days?, project_id?}; the plain value is shown once."""
    name, days, project_id = data.get("name"), data.get("expires_in_days"), data.get("project_id")
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        errors["name"] = "Give the token a name of 1 to 80 characters, like 'CI deploys'."
    days = _optional_int(days)
    if days is False or (days is not None and not 1 <= days <= MAX_DAYS):
        errors["expires_in_days"] = f"Use a number of days from 1 to {MAX_DAYS}, or none."
    project_id = _optional_int(project_id)
    if project_id is False:
        errors["project_id"] = "Use a project id, or none for all your projects."
    if errors:
        raise ValidationError(errors)
    if project_id is not None:
        project_or_404(project_id)  # only a project the user can see
    expires = utcnow() + timedelta(days=days) if days else None
    token, plain = ApiToken.issue(user, name.strip(), expires_at=expires, project_id=project_id)
    db.session.add(token)
    db.session.commit()
    return token, plain


def _optional_int(value):
    """None for empty, the number for digits, False for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return False


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke(user: User, token_id: int) -> bool:
    token = db.session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    db.session.commit()
    return True


def token_json(token: ApiToken) -> dict:
    def iso(value):
        return value.isoformat() + "Z" if value else None

    return {
        "id": token.id,
        "name": token.name,
        "project_id": token.project_id,
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
    }
