"""A project: a Git repository and how to build it."""

import re
import unicodedata

from app.extensions import db
from app.models.user import utcnow


def slugify(name: str) -> str:
    """Turn a project name into a DNS label: lower case, a-z0-9 and dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:50].strip("-")


class Project(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(100), nullable=False)
    slug = db.Column(db.String(63), unique=True, nullable=False)
    repo_url = db.Column(db.String(1000), nullable=False)
    branch = db.Column(db.String(255), nullable=False, default="main")
    root_dir = db.Column(db.String(255))
    install_command = db.Column(db.String(1000))
    build_command = db.Column(db.String(1000))
    output_dir = db.Column(db.String(255))
    node_version = db.Column(db.String(20))
    # Install always has the network (it downloads packages); the build step
    # has it unless the project turns it off.
    build_network = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # Serve index.html for paths with no file (single-page apps with client routing).
    spa_fallback = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    # Publish a deploy that drops index.html or most of the live files as a
    # preview only, until someone makes it live by hand.
    hold_risky_deploys = db.Column(
        db.Boolean, nullable=False, default=True, server_default=db.true()
    )
    # How many recent deployments keep their files (None: RETAIN_DEPLOYMENTS).
    keep_deployments = db.Column(db.Integer)
    # Where users reach the live site (a CDN or custom domain), shown instead
    # of the sites-domain address and used for CDN purges.
    public_url = db.Column(db.String(255))
    # Per-deployment addresses (d<id>--<slug>) need a member's login when set.
    private_previews = db.Column(
        db.Boolean, nullable=False, default=False, server_default=db.false()
    )
    # Where the repository lives, when Slipway knows its host: "github" for
    # imported repositories (branch heads and commit statuses go through the API).
    git_provider = db.Column(db.String(20))
    repo_full_name = db.Column(db.String(200))  # owner/name on the host
    is_private = db.Column(db.Boolean, nullable=False, default=False, server_default=db.false())
    connection_id = db.Column(db.Integer, db.ForeignKey("connection.id", ondelete="SET NULL"))
    # A token for cloning from any host (encrypted); a GitHub project without
    # one uses its connection's token.
    git_token = db.Column(db.Text)
    # Verifies push notifications (encrypted: HMAC needs the value itself).
    webhook_secret = db.Column(db.Text)
    # Which other branches build previews on push: "*" all, "" none, or
    # comma-separated patterns like "feature/*, release-*".
    preview_branches = db.Column(db.String(255), nullable=False, default="*", server_default="*")
    # A new deploy of a branch cancels older queued and running ones of it.
    supersede = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    commit_statuses = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Points at the deployment served at <slug>.<SITES_DOMAIN>; swapping this
    # one column is what makes a deploy (or a rollback) atomic.
    live_deployment_id = db.Column(
        db.Integer, db.ForeignKey("deployment.id", use_alter=True, ondelete="SET NULL")
    )

    deployments = db.relationship(
        "Deployment",
        back_populates="project",
        foreign_keys="Deployment.project_id",
        cascade="all, delete-orphan",
        order_by="Deployment.id.desc()",
    )

    members = db.relationship(
        "ProjectMember", back_populates="project", cascade="all, delete-orphan"
    )

    def to_dict(self) -> dict:
        fields = (
            "id",
            "name",
            "slug",
            "repo_url",
            "branch",
            "root_dir",
            "install_command",
            "build_command",
            "output_dir",
            "node_version",
            "build_network",
            "spa_fallback",
            "hold_risky_deploys",
            "keep_deployments",
            "public_url",
            "private_previews",
            "git_provider",
            "repo_full_name",
            "is_private",
            "preview_branches",
            "supersede",
            "commit_statuses",
            "live_deployment_id",
        )
        data = {field: getattr(self, field) for field in fields}
        data["created_at"] = self.created_at.isoformat() + "Z"
        return data
