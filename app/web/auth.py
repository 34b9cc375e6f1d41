"""First-run setup, login and logout."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import User
from app.web.forms import LoginForm, SetupForm

bp = Blueprint("auth", __name__)


def has_users() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first admin; gone once any user exists."""
    if has_users():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        user = User(username=form.username.data.strip(), is_admin=True)
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        login_user(user)
        flash("Welcome to Slipway. Create your first project.")
        return redirect(url_for("projects.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Log in with a username and password."""
    if not has_users():
        return redirect(url_for("auth.setup"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(username=form.username.data.strip()))
        if user and user.check_password(form.password.data):
            session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = ["Wrong username or password."]
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out."""
    logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only follow local paths after login, never another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("projects.index")
