"""Endpoints Git hosts and other services call without a login: push notifications, deploy hooks."""

import hashlib

from flask import Blueprint, current_app, jsonify, request

from app import audit
from app.cache import modules_cache
from app.deploys import QueueFull, start_deployment
from app.pipeline.git import RepoError
from app.projects import ValidationError
from app.repos import webhook_secret
from app.webhooks import (
    find_deploy_hook,
    handle_push,
    parse_push,
    projects_for,
    signature_matches,
)

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

# Which header names the event and the delivery, per host.
EVENT_HEADER = {"github": "X-GitHub-Event", "gitlab": "X-Gitlab-Event", "gitea": "X-Gitea-Event"}
DELIVERY_HEADERS = {
    "github": ("X-GitHub-Delivery",),
    "gitlab": ("X-Gitlab-Event-UUID", "Idempotency-Key"),
    "gitea": ("X-Gitea-Delivery", "X-Forgejo-Delivery"),
}
PUSH_EVENTS = {"push", "Push Hook"}


@bp.before_request
def allow_large_push_notifications():
    # A push of many commits is a large body; the app-wide limit is for forms and the API.
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]


def answer(status: int, text: str, **extra):
    response = jsonify(outcome=text, **extra)
    response.status_code = status
    return response


@bp.post("/<any(github, gitlab, gitea):provider>")
def push(provider: str):
    """Receive a push notification; deploy what the project builds, within a second."""
    body = request.get_data(cache=True)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return answer(400, "The body must be the JSON a Git host sends.")
    event = request.headers.get(EVENT_HEADER[provider], "")
    if provider == "gitea" and not event:
        event = request.headers.get("X-Forgejo-Event", "")
    pushed = parse_push(provider, payload)
    verified = [
        p
        for p in projects_for(pushed)
        if signature_matches(provider, webhook_secret(p), body, request.headers)
    ]
    if not verified:
        current_app.logger.warning("%s hook refused: no project's secret verifies it", provider)
        return answer(401, "Signature missing or wrong: nothing was done.")
    if event == "ping":
        return answer(200, "pong")
    if event not in PUSH_EVENTS:
        return answer(200, f"Ignored: Slipway acts on push events, not '{event}'.")
    delivery = _delivery_id(provider, body)
    outcomes = [handle_push(p, pushed, provider, delivery) for p in verified]
    for project, outcome in zip(verified, outcomes, strict=True):
        current_app.logger.info(
            "%s delivery %s, %s: %s", provider, delivery, project.slug, outcome.text
        )
    status = max(outcome.status for outcome in outcomes)
    deployments = [o.deployment_id for o in outcomes if o.deployment_id]
    return answer(status, " ".join(o.text for o in outcomes), deployments=deployments)


def _delivery_id(provider: str, body: bytes) -> str:
    for header in DELIVERY_HEADERS[provider]:
        if request.headers.get(header):
            return request.headers[header][:100]
    return "body-" + hashlib.sha256(body).hexdigest()[:40]  # the same body is the same delivery


@bp.post("/deploy/<secret>")
def deploy_hook(secret: str):
    """Deploy a project from its secret URL: ?branch= another branch, ?clear_cache=1 afresh."""
    hook = find_deploy_hook(secret)
    if hook is None:
        return answer(404, "No deploy hook has this address (it may have been revoked).")
    project = hook.project
    if request.args.get("clear_cache") == "1":
        modules_cache().clear_project(project.id)
    try:
        deployment = start_deployment(project, request.args.get("branch"), trigger="hook")
    except QueueFull as exc:
        return answer(429, str(exc))
    except (ValidationError, RepoError) as exc:
        return answer(422, str(exc))
    audit.record(project, "deploy_hook_used", hook=hook.name, deployment=deployment.id)
    return answer(202, f"Deployment #{deployment.id} queued.", deployment_id=deployment.id)
