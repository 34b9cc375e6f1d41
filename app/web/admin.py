"""Account pages: your API tokens, and (for administrators) the users."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.access import visible_projects
from app.extensions import db
from app.models import User
from app.projects import ValidationError
from app.tokens import issue_token, revoke, tokens_of

bp = Blueprint("admin", __name__)
MIN_PASSWORD = 10


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    """List your API tokens and create one (its value is shown this once)."""
    new_token = None
    if request.method == "POST":
        try:
            _, new_token = issue_token(current_user, request.form.to_dict())
        except ValidationError as exc:
            for message in exc.errors.values():
                flash(message, "error")
    return render_template(
        "admin/tokens.html",
        tokens=tokens_of(current_user),
        projects=visible_projects(),
        new_token=new_token,
    )


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    """Revoke one of your tokens; requests with it are refused from now on."""
    if revoke(current_user, token_id):
        flash("Token revoked.")
    else:
        flash("That token does not exist or is revoked already.", "error")
    return redirect(url_for("admin.tokens"))


@bp.route("/admin/users", methods=["GET", "POST"])
def users():
    """List users and create one (administrators only)."""
    if not current_user.is_admin:
        abort(404)
    if request.method == "POST":
        _create_user(request.form)
        return redirect(url_for("admin.users"))
    everyone = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=everyone)


def _create_user(form) -> None:
    username, password = form.get("username", "").strip(), form.get("password", "")
    if not username or len(username) > 80 or any(ch.isspace() for ch in username):
        flash("Use a user name of 1 to 80 characters without spaces.", "error")
    elif len(password) < MIN_PASSWORD:
        flash(f"Use a password of at least {MIN_PASSWORD} characters.", "error")
    elif db.session.scalar(select(User.id).where(User.username == username)):
        flash(f"A user named {username} exists already.", "error")
    else:
        user = User(username=username, is_admin=form.get("admin") == "y")
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        flash(f"User {username} created. Add them to projects from each project's settings.")
