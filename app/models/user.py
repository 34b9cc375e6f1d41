"""Users and their API tokens."""

import hashlib
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(80), unique=True, nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    is_admin = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)
    name = db.Column(db.String(80), nullable=False)
    token_hash = db.Column(db.String(64), unique=True, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_used_at = db.Column(db.DateTime)
    expires_at = db.Column(db.DateTime)
    revoked_at = db.Column(db.DateTime)
    # A token restricted to one project sees nothing else (404 elsewhere).
    project_id = db.Column(db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"))

    user = db.relationship(User, backref=db.backref("tokens", cascade="all, delete-orphan"))
    project = db.relationship("Project")

    @classmethod
    def issue(
        cls, user: User, name: str, expires_at=None, project_id: int | None = None
    ) -> tuple["ApiToken", str]:
        """Create a token; the plain value is returned once and never stored."""
        plain = "slw_" + secrets.token_urlsafe(32)
        token = cls(
            user=user,
            name=name,
            token_hash=hash_token(plain),
            expires_at=expires_at,
            project_id=project_id,
        )
        return token, plain

    @classmethod
    def find(cls, plain: str) -> "ApiToken | None":
        return cls.query.filter_by(token_hash=hash_token(plain)).first()

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > utcnow()
