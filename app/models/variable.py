"""Environment variables of a project's builds; secret ones are stored encrypted."""

import enum

from app.extensions import db
from app.models.user import utcnow


class Target(enum.StrEnum):
    ALL = "all"
    PRODUCTION = "production"  # deploys of the project's branch
    PREVIEW = "preview"  # deploys of any other branch


def _values(members) -> list[str]:
    return [member.value for member in members]


class Variable(db.Model):
    __table_args__ = (db.UniqueConstraint("project_id", "name", "target"),)

    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(
        db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = db.Column(db.String(100), nullable=False)
    # The plain value, or for a secret the Fernet token (see app/secrets.py).
    value = db.Column(db.Text, nullable=False)
    is_secret = db.Column(db.Boolean, nullable=False, default=False)
    target = db.Column(
        db.Enum(
            Target, native_enum=False, length=20, values_callable=lambda t: [x.value for x in t]
        ),
        nullable=False,
        default=Target.ALL,
    )
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict:
        """Secret values never leave: write-only after saving."""
        return {
            "name": self.name,
            "value": None if self.is_secret else self.value,
            "secret": self.is_secret,
            "target": self.target.value,
            "updated_at": self.updated_at.isoformat() + "Z",
        }
