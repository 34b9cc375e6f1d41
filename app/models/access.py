"""Who may do what on a project, and the record of what they did."""

import enum

from app.extensions import db
from app.models.user import utcnow


class Role(enum.StrEnum):
    OWNER = "owner"  # everything, including settings, members, variables and deletion
    DEPLOYER = "deployer"  # deploy, cancel and promote, besides reading
    VIEWER = "viewer"  # read-only: pages, deployments, logs


class ProjectMember(db.Model):
    __table_args__ = (db.UniqueConstraint("project_id", "user_id"),)

    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(
        db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id = db.Column(
        db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
    )
    role = db.Column(
        db.Enum(Role, native_enum=False, length=20, values_callable=lambda r: [x.value for x in r]),
        nullable=False,
    )
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User")
    project = db.relationship("Project", back_populates="members")


class AuditEvent(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(
        db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Kept when the user is deleted: the trail says who it was by name.
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="SET NULL"))
    username = db.Column(db.String(80))
    action = db.Column(db.String(40), nullable=False)
    # What changed, never a secret value: names of fields and variables, ids.
    detail = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "action": self.action,
            "user": self.username,
            "detail": self.detail or {},
            "created_at": self.created_at.isoformat() + "Z",
        }
