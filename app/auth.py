"""Who is asking: session logins for pages, bearer tokens for the API."""

from flask import g, jsonify, redirect, request, url_for
from flask_login import current_user

from app.extensions import csrf, db, login_manager
from app.models import ApiToken, User
from app.models.user import utcnow

# Hooks prove who calls them with signatures or secret URLs, not with logins.
PUBLIC_ENDPOINTS = {
    "auth.setup",
    "auth.login",
    "static",
    "api.openapi",
    "hooks.push",
    "hooks.deploy_hook",
    "ops.healthz",  # for load balancers and orchestrators; names no secret
    "ops.metrics",  # keep it off the public network, as with any exporter
}


def init_app(app) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    app.before_request(require_user)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def require_user():
    """Let a request through only with a logged-in user or a valid API token."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    if token is not None:
        return _login_with_token(token)
    if not db.session.query(User.id).limit(1).first():
        return redirect(url_for("auth.setup"))
    if not current_user.is_authenticated:
        if is_api_request():
            return _unauthorized("Authentication required: send 'Authorization: Bearer <token>'.")
        return login_manager.unauthorized()
    csrf.protect()  # a browser session: forms and htmx calls must carry the token
    return None


def _login_with_token(plain: str):
    token = ApiToken.find(plain)
    if token is None or not token.is_usable:
        return _unauthorized("The API token is invalid, expired or revoked; create a new one.")
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now  # at most one write a minute per token
        db.session.commit()
    # Flask-Login reads the user from g; setting it here keeps token requests
    # out of the session cookie entirely.
    g._login_user = token.user
    g.api_token = token
    return None


def _unauthorized(message: str):
    response = jsonify(error=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="slipway"'
    return response
