"""Push notifications from GitHub, GitLab and Gitea/Forgejo, and deploy hooks.

A notification is verified against the webhook secret of each project on
that repository (HMAC-SHA256 of the raw body, compared in constant time; the
token itself for GitLab), recorded by delivery id so a redelivery starts
nothing, and answered as soon as its deployment is queued.
"""

import fnmatch
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.deploys import QueueFull, start_deployment
from app.extensions import db
from app.github import Head
from app.models import DeployHook, Project, WebhookDelivery
from app.models.user import utcnow
from app.pipeline.git import RepoError
from app.projects import ValidationError
from app.repos import fernet
from app.secrets import encrypt

ZERO_SHA = "0" * 40


@dataclass
class Push:
    """What a push notification says, whichever host sent it."""

    repository_names: set[str]
    ref: str
    after: str
    deleted: bool
    message: str | None
    author: str | None


@dataclass
class Outcome:
    status: int
    text: str
    deployment_id: int | None = None


def new_webhook_secret(project: Project) -> str:
    value = secrets.token_urlsafe(32)
    project.webhook_secret = encrypt(fernet(), value)
    db.session.commit()
    return value


def signature_matches(provider: str, secret: str, body: bytes, headers) -> bool:
    """Check the delivery's signature (GitHub, Gitea/Forgejo) or token (GitLab)."""
    if provider == "gitlab":
        given = headers.get("X-Gitlab-Token", "")
        return hmac.compare_digest(given.encode(), secret.encode())
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if provider == "github":
        return hmac.compare_digest(headers.get("X-Hub-Signature-256", ""), f"sha256={digest}")
    given = headers.get("X-Gitea-Signature") or headers.get("X-Forgejo-Signature") or ""
    return hmac.compare_digest(given, digest)


def parse_push(provider: str, payload: dict) -> Push:
    repo = payload.get("project" if provider == "gitlab" else "repository") or {}
    names = {
        repo.get(key)
        for key in (
            "full_name", "path_with_namespace", "clone_url", "html_url", "ssh_url",
            "git_url", "git_http_url", "git_ssh_url", "web_url",
        )
    }  # fmt: skip
    after = payload.get("after") or ""
    head = payload.get("head_commit") or ((payload.get("commits") or [None])[-1]) or {}
    author = head.get("author") or {}
    return Push(
        repository_names={normalise(n) for n in names if isinstance(n, str) and n},
        ref=payload.get("ref") or "",
        after=after,
        deleted=bool(payload.get("deleted")) or after == ZERO_SHA,
        message=head.get("message"),
        author=f"{author.get('name')} <{author.get('email')}>" if author.get("name") else None,
    )


def normalise(name: str) -> str:
    return name.strip().lower().removesuffix("/").removesuffix(".git")


def projects_for(push: Push) -> list[Project]:
    """Projects on the pushed repository that have a webhook secret."""
    found = []
    for project in db.session.scalars(select(Project).where(Project.webhook_secret.is_not(None))):
        names = {normalise(project.repo_url)}
        if project.repo_full_name:
            names.add(normalise(project.repo_full_name))
        if names & push.repository_names:
            found.append(project)
    return found


def handle_push(project: Project, push: Push, provider: str, delivery_id: str) -> Outcome:
    """Deploy the pushed branch if the project builds it; record the delivery either way."""
    outcome = _decide(project, push)
    record = WebhookDelivery(
        provider=provider,
        delivery_id=delivery_id,
        project_id=project.id,
        event="push",
        outcome=outcome.text,
    )
    db.session.add(record)
    try:
        db.session.commit()  # the unique delivery id is what stops a replay from building twice
    except IntegrityError:
        db.session.rollback()
        return Outcome(200, f"Delivery {delivery_id} was handled already; nothing to do.")
    if outcome.status != 202:
        return outcome
    return _deploy(project, push, record)


def _decide(project: Project, push: Push) -> Outcome:
    if not push.ref.startswith("refs/heads/"):
        return Outcome(
            200, f"Ignored: {push.ref or 'the ref'} is not a branch (tags do not deploy)."
        )
    branch = push.ref.removeprefix("refs/heads/")
    if push.deleted:
        return Outcome(200, f"Ignored: branch {branch} was deleted.")
    if branch != project.branch and not builds_preview(project, branch):
        return Outcome(
            200, f"Ignored: {branch} is not {project.branch} and does not build previews."
        )
    return Outcome(202, f"Deploying {branch}.")


def builds_preview(project: Project, branch: str) -> bool:
    patterns = [p.strip() for p in (project.preview_branches or "").split(",") if p.strip()]
    return any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)


def _deploy(project: Project, push: Push, record: WebhookDelivery) -> Outcome:
    branch = push.ref.removeprefix("refs/heads/")
    try:
        deployment = start_deployment(
            project, branch, head=Head(push.after, push.message, push.author), trigger="push"
        )
    except (ValidationError, RepoError, QueueFull) as exc:
        record.outcome = f"Not deployed: {exc}"
        db.session.commit()
        return Outcome(429 if isinstance(exc, QueueFull) else 422, record.outcome)
    record.deployment_id = deployment.id
    record.outcome = f"Deployment #{deployment.id} of {branch} queued."
    db.session.commit()
    return Outcome(202, record.outcome, deployment.id)


def recent_deliveries(project: Project, limit: int = 10) -> list[WebhookDelivery]:
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.project_id == project.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def create_deploy_hook(project: Project, name: str) -> str:
    """Make a deploy hook; return its secret (shown once, kept only as a hash)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError({"name": "Name the hook (1 to 80 characters), like 'CMS publish'."})
    secret = "dh_" + secrets.token_urlsafe(32)
    hook = DeployHook(project_id=project.id, name=name, secret_hash=_hash(secret))
    db.session.add(hook)
    db.session.commit()
    return secret


def find_deploy_hook(secret: str) -> DeployHook | None:
    hook = db.session.scalar(select(DeployHook).where(DeployHook.secret_hash == _hash(secret)))
    if hook is not None:
        hook.last_used_at = utcnow()
        db.session.commit()
    return hook


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
