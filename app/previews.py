"""Private previews: d<id>--<slug> addresses that only the project's members may open.

Sites live on other host names than the dashboard, so its session cookie never
reaches them (by design: a site's scripts must not see it). A member opening a
preview from the dashboard is sent through a one-minute signed link; the
preview host turns it into a cookie of its own, valid for that host only.
"""

from flask import current_app, redirect, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db
from app.models import Project, User

HANDOFF_PATH = "/_slipway/auth"
COOKIE = "slipway_preview"
HANDOFF_SECONDS = 60
COOKIE_SECONDS = 12 * 3600


def _signer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"preview-{purpose}")


def handoff_url(site_address: str, user: User, project: Project) -> str:
    """The link that logs `user` into one preview address for a while."""
    token = _signer("handoff").dumps({"u": user.id, "p": project.id})
    return f"{site_address.rstrip('/')}{HANDOFF_PATH}?t={token}"


def accept_handoff(project: Project):
    """On the preview host: trade a fresh handoff link for a cookie, then show the site."""
    try:
        data = _signer("handoff").loads(request.args.get("t", ""), max_age=HANDOFF_SECONDS)
    except BadSignature:
        return None
    if data.get("p") != project.id or not _may_view(data.get("u"), project):
        return None
    response = redirect("/", code=303)
    cookie = _signer("cookie").dumps({"u": data["u"], "p": project.id})
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=COOKIE_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )
    return response


def allowed(project: Project) -> bool:
    """May this request see the project's previews?"""
    if not project.private_previews:
        return True
    try:
        data = _signer("cookie").loads(request.cookies.get(COOKIE, ""), max_age=COOKIE_SECONDS)
    except BadSignature:
        return False
    return data.get("p") == project.id and _may_view(data.get("u"), project)


def _may_view(user_id, project: Project) -> bool:
    """Checked on every request: removing a member closes their previews at once."""
    from app.access import role_of

    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user is not None and role_of(user, project) is not None
