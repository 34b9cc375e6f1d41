"""Connect GitHub with a token and import repositories as projects."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import may_create_projects
from app.extensions import db
from app.github import GitHubError
from app.projects import ValidationError
from app.repos import connect_github, connection_of, github_for, import_repository

bp = Blueprint("github", __name__, url_prefix="/github")
SEARCH_PAGES = 10  # a search looks through this many pages of repositories at most


@bp.get("/")
def index():
    """Show the GitHub connection, or the form to make one."""
    return render_template("github/index.html", connection=connection_of(current_user))


@bp.post("/connect")
def connect():
    """Check a token with GitHub and keep it, encrypted."""
    try:
        connection = connect_github(current_user, request.form.get("token", ""))
    except ValidationError as exc:
        flash(exc.errors["token"], "error")
    else:
        flash(f"Connected to GitHub as {connection.login}. Pick a repository to import.")
    return redirect(url_for("github.index"))


@bp.post("/disconnect")
def disconnect():
    """Forget the token; imported projects keep their settings but cannot clone privately."""
    connection = connection_of(current_user)
    if connection is not None:
        db.session.delete(connection)
        db.session.commit()
        flash("GitHub disconnected; the token is deleted from Slipway.")
    return redirect(url_for("github.index"))


@bp.get("/repositories")
def repositories():
    """A page of repositories, or those matching ?q= (the HTMX filter box)."""
    connection = connection_of(current_user)
    if connection is None:
        return redirect(url_for("github.index"))
    query = request.args.get("q", "").strip().lower()
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 1000 else 1
    try:
        repos, next_page = _find(github_for(connection), query, page)
    except GitHubError as exc:
        repos, next_page, error = [], None, str(exc)
    else:
        error = None
    template = (
        "github/_repositories.html" if request.headers.get("HX-Request") else "github/index.html"
    )
    return render_template(
        template,
        connection=connection,
        repos=repos,
        next_page=next_page,
        query=query,
        error=error,
        listing=True,
    )


def _find(github, query: str, page: int):
    if not query:
        return github.repositories(page)
    found, current = [], 1
    while current and current <= SEARCH_PAGES:
        repos, current = github.repositories(current)
        found += [r for r in repos if query in r.full_name.lower()]
    return found, None


@bp.post("/import")
def import_repo():
    """Create a project from the chosen repository."""
    connection = connection_of(current_user)
    if connection is None or not may_create_projects():
        return redirect(url_for("github.index"))
    try:
        project = import_repository(current_user, connection, request.form.get("repository", ""))
    except ValidationError as exc:
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("github.repositories"))
    flash(f"{project.name} imported from GitHub. Press Deploy to build it.")
    return redirect(url_for("projects.show", project_id=project.id))
