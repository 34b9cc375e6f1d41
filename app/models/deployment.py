"""A deployment: one build of one commit, its status and its log."""

import enum

from app.extensions import db
from app.models.user import utcnow


class Status(enum.StrEnum):
    QUEUED = "queued"
    CLONING = "cloning"
    BUILDING = "building"
    UPLOADING = "uploading"
    DEPLOYED = "deployed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def colour(self) -> str:
        """Badge colour; keep in step with static/css/app.css."""
        if self is Status.DEPLOYED:
            return "green"
        return "red" if self.is_terminal else "yellow"


TERMINAL = frozenset({Status.DEPLOYED, Status.FAILED, Status.CANCELLED})
ACTIVE = frozenset(Status) - TERMINAL

# The order a pipeline moves through; a status never moves backwards.
_ORDER = [Status.QUEUED, Status.CLONING, Status.BUILDING, Status.UPLOADING, Status.DEPLOYED]


def can_transition(current: Status, new: Status) -> bool:
    """Tell whether a deployment may move from one status to another."""
    if current.is_terminal:
        return False
    if new in (Status.FAILED, Status.CANCELLED):
        return True
    return _ORDER.index(new) > _ORDER.index(current)


class Deployment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    project_id = db.Column(
        db.Integer, db.ForeignKey("project.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status = db.Column(
        db.Enum(
            Status,
            native_enum=False,
            length=20,
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        nullable=False,
        default=Status.QUEUED,
        index=True,
    )
    step = db.Column(db.String(20))
    error_code = db.Column(db.String(40))
    error_message = db.Column(db.Text)
    branch = db.Column(db.String(255), nullable=False)
    commit_sha = db.Column(db.String(40), nullable=False)
    commit_message = db.Column(db.Text)
    commit_author = db.Column(db.String(255))
    task_id = db.Column(db.String(64))
    # What started it: "manual" (button or API), "push" (a webhook), "hook" (a deploy hook).
    trigger = db.Column(db.String(20), nullable=False, default="manual", server_default="manual")
    # The newer deployment of the same branch that cancelled this one.
    superseded_by = db.Column(db.Integer)
    # When a task last took charge of this queued deployment; the dispatcher
    # re-enqueues queued deployments no task has touched for a while.
    dispatched_at = db.Column(db.DateTime)
    worker_id = db.Column(db.String(120))
    cancel_requested = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    started_at = db.Column(db.DateTime)
    finished_at = db.Column(db.DateTime)
    heartbeat_at = db.Column(db.DateTime)
    # {"clone": 1.2, "install": 8.4, ...}: seconds per finished step.
    step_durations = db.Column(db.JSON, nullable=False, default=dict)
    # What detection chose: package manager, Node version, commands, output dir.
    detected = db.Column(db.JSON, nullable=False, default=dict)
    file_count = db.Column(db.Integer)
    total_bytes = db.Column(db.BigInteger)
    # Compared with the deployment that was live when this one was published:
    # counts of files added/removed/changed and the size before and after.
    diff = db.Column(db.JSON)
    # Why a finished deployment was published as a preview but not made live.
    held_reason = db.Column(db.Text)
    # Set when retention deleted the files; the row and its log stay.
    pruned_at = db.Column(db.DateTime)

    project = db.relationship("Project", back_populates="deployments", foreign_keys=[project_id])

    @property
    def is_active(self) -> bool:
        return not self.status.is_terminal

    @property
    def short_sha(self) -> str:
        return self.commit_sha[:7]

    @property
    def duration(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or utcnow()
        return round((end - self.started_at).total_seconds(), 1)

    @property
    def is_live(self) -> bool:
        return self.project.live_deployment_id == self.id


class LogLine(db.Model):
    __table_args__ = (db.UniqueConstraint("deployment_id", "seq"),)

    id = db.Column(db.Integer, primary_key=True)
    deployment_id = db.Column(
        db.Integer, db.ForeignKey("deployment.id", ondelete="CASCADE"), nullable=False
    )
    seq = db.Column(db.Integer, nullable=False)
    ts = db.Column(db.Float, nullable=False)
    stream = db.Column(db.String(10), nullable=False)
    text = db.Column(db.Text, nullable=False)

    def to_dict(self) -> dict:
        return {"seq": self.seq, "ts": self.ts, "stream": self.stream, "text": self.text}
