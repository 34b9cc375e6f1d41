"""Git hosts: a user's connection to GitHub, push deliveries received, deploy hooks."""

from app.extensions import db
from app.models.user import utcnow


class Connection(db.Model):
    """A user's token for a Git host's API (GitHub or GitHub Enterprise), encrypted."""

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    provider = db.Column(db.String(20), nullable=False, default="github")
    login = db.Column(db.String(100))  # the account the token belongs to
    token = db.Column(db.Text, nullable=False)  # Fernet token (app/secrets.py)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User")


class WebhookDelivery(db.Model):
    """One push notification received, and what Slipway did with it."""

    # One delivery may concern several projects (the same repository twice).
    __table_args__ = (db.UniqueConstraint("provider", "delivery_id", "project_id"),)

    id = db.Column(db.Integer, primary_key=True)
    provider = db.Column(db.String(20), nullable=False)
    delivery_id = db.Column(db.String(100), nullable=False)
    project_id = db.Column(db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), index=True)
    event = db.Column(db.String(40), nullable=False)
    outcome = db.Column(db.Text, nullable=False)
    deployment_id = db.Column(db.Integer, db.ForeignKey("deployment.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class DeployHook(db.Model):
    """A secret URL that deploys a project without a login (for a CMS or cron)."""

    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(
        db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = db.Column(db.String(80), nullable=False)
    # Only the hash is kept: the URL is shown once, like an API token.
    secret_hash = db.Column(db.String(64), unique=True, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime)

    project = db.relationship("Project")
