"""Deployment cards: their summary fragment and the cancel button."""

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from app.access import deployment_or_404
from app.deploys import cancel_deployment
from app.extensions import db
from app.models import Deployment, LogLine
from app.previews import handoff_url
from app.promotion import promote as promote_deployment
from app.sites import site_url

bp = Blueprint("deployments", __name__)


def get_deployment(deployment_id: int, action: str = "view") -> Deployment:
    return deployment_or_404(deployment_id, action)


def last_seq(deployment_id: int) -> int:
    query = select(func.max(LogLine.seq)).where(LogLine.deployment_id == deployment_id)
    return db.session.scalar(query) or 0


@bp.get("/deployments/<int:deployment_id>/summary")
def summary(deployment_id: int):
    """The part of a card that changes with the status."""
    # Only a card that saw its own status change announces it; cards that
    # refresh because of the announcement must not announce again.
    return _summary(get_deployment(deployment_id), announce=bool(request.args.get("changed")))


def _summary(d: Deployment, announce: bool):
    response = make_response(render_template("deployments/_summary.html", d=d))
    if announce and d.status.is_terminal:
        response.headers["HX-Trigger"] = "deployments-changed"
    return response


@bp.post("/deployments/<int:deployment_id>/cancel")
def cancel(deployment_id: int):
    """Cancel a deployment from its card."""
    d = get_deployment(deployment_id, "deploy")
    cancel_deployment(d)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("projects.show", project_id=d.project_id))
    db.session.expire_all()
    return _summary(get_deployment(deployment_id), announce=True)


@bp.get("/deployments/<int:deployment_id>/open")
def open_preview(deployment_id: int):
    """Open a deployment's own address; a private preview gets a one-minute login link."""
    d = get_deployment(deployment_id)
    address = site_url(d.project.slug, d.id)
    if d.project.private_previews:
        address = handoff_url(address, current_user, d.project)
    return redirect(address)


@bp.post("/deployments/<int:deployment_id>/promote")
def promote(deployment_id: int):
    """Make a deployed build live from its card; the list re-renders with the new live one."""
    from app.web.projects import show

    d = get_deployment(deployment_id, "deploy")
    refused = promote_deployment(d)
    if refused:
        flash(refused, "error")
    else:
        flash(f"Deployment #{d.id} ({d.short_sha}) is live now.")
    db.session.expire_all()
    if not request.headers.get("HX-Request"):
        return redirect(url_for("projects.show", project_id=d.project_id))
    response = make_response(show(d.project_id))
    response.headers["HX-Trigger"] = "deployments-changed"
    return response


@bp.app_template_global()
def log_cursor(deployment_id: int) -> int:
    """Where a freshly rendered card starts listening for status changes."""
    return last_seq(deployment_id)
