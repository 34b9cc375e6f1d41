"""A project's repository: its credentials, its branch heads, importing it from GitHub."""

from flask import current_app
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.github import GitHub, GitHubError, Head
from app.models import Connection, Project, User
from app.models.project import slugify
from app.pipeline import git
from app.pipeline.git import GitAuth, RepoError
from app.projects import ValidationError, create_project
from app.secrets import decrypt, encrypt


def fernet():
    return current_app.extensions["slipway_fernet"]


def auth_for(project: Project) -> GitAuth | None:
    """The credentials to clone the project with: its own token, else its GitHub connection's."""
    if project.git_token:
        return GitAuth(decrypt(fernet(), project.git_token))
    if project.connection_id:
        connection = db.session.get(Connection, project.connection_id)
        return GitAuth(decrypt(fernet(), connection.token))
    return None


def github_for(connection: Connection) -> GitHub:
    return GitHub(current_app.config["GITHUB_API_URL"], decrypt(fernet(), connection.token))


def resolve_head(project: Project, branch: str) -> Head:
    """The commit a deploy of `branch` builds: through the API for GitHub projects."""
    auth = auth_for(project)
    if project.git_provider == "github" and project.connection_id and project.repo_full_name:
        connection = db.session.get(Connection, project.connection_id)
        try:
            return github_for(connection).head(project.repo_full_name, branch)
        except GitHubError as exc:
            raise RepoError(str(exc)) from None
    return Head(git.resolve_branch(project.repo_url, branch, auth=auth))


def connect_github(user: User, token: str) -> Connection:
    """Check a token against GitHub and keep it (encrypted) as the user's connection."""
    token = (token or "").strip()
    if not token or len(token) > 500 or any(ch.isspace() for ch in token):
        raise ValidationError({"token": "Paste a GitHub token (a fine-grained personal token)."})
    try:
        login = GitHub(current_app.config["GITHUB_API_URL"], token).login()
    except GitHubError as exc:
        raise ValidationError({"token": str(exc)}) from None
    connection = connection_of(user) or Connection(user_id=user.id, provider="github")
    connection.login = login
    connection.token = encrypt(fernet(), token)
    db.session.add(connection)
    db.session.commit()
    return connection


def connection_of(user: User) -> Connection | None:
    return db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.provider == "github")
    )


def import_repository(user: User, connection: Connection, full_name: str) -> Project:
    """Create a project from a repository the connection can see: branch, privacy, clone URL."""
    try:
        repo = github_for(connection).repository(full_name)
    except GitHubError as exc:
        raise ValidationError({"repository": str(exc)}) from None
    name = repo.full_name.split("/")[-1]
    if db.session.scalar(select(Project.id).where(Project.slug == slugify(name))):
        name = repo.full_name.replace("/", "-")
    project = create_project(
        {"name": name, "repo_url": repo.clone_url, "branch": repo.default_branch}, owner=user
    )
    project.git_provider = "github"
    project.repo_full_name = repo.full_name
    project.is_private = repo.private
    project.connection_id = connection.id
    audit.record(project, "imported", commit=False, repository=repo.full_name)
    db.session.commit()
    return project


def webhook_secret(project: Project) -> str | None:
    return decrypt(fernet(), project.webhook_secret) if project.webhook_secret else None
