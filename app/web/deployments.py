"""Deployment cards: their summary fragment and the cancel button."""

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select

from app.deploys import cancel_deployment
from app.extensions import db
from app.models import Deployment, LogLine

bp = Blueprint("deployments", __name__)


def get_deployment(deployment_id: int) -> Deployment:
    return db.get_or_404(Deployment, deployment_id)


def last_seq(deployment_id: int) -> int:
    query = select(func.max(LogLine.seq)).where(LogLine.deployment_id == deployment_id)
    return db.session.scalar(query) or 0


@bp.get("/deployments/<int:deployment_id>/summary")
def summary(deployment_id: int):
    """The part of a card that changes with the status."""
    d = get_deployment(deployment_id)
    response = make_response(render_template("deployments/_summary.html", d=d))
    if d.status.is_terminal:
        response.headers["HX-Trigger"] = "deployments-changed"
    return response


@bp.post("/deployments/<int:deployment_id>/cancel")
def cancel(deployment_id: int):
    """Cancel a deployment from its card."""
    d = get_deployment(deployment_id)
    cancel_deployment(d)
    if not request.headers.get("HX-Request"):
        return redirect(url_for("projects.show", project_id=d.project_id))
    db.session.expire_all()
    return summary(deployment_id)


@bp.app_template_global()
def log_cursor(deployment_id: int) -> int:
    """Where a freshly rendered card starts listening for status changes."""
    return last_seq(deployment_id)
