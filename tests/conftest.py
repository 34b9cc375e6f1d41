"""Fixtures that make real things: git repositories, users, a running Slipway stack."""

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask import g

# The queue and config read the environment at import: point them at a
# throwaway directory before anything from the app is imported.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="slipway-tests-"))
os.environ["SLIPWAY_DATA_DIR"] = str(_SESSION_DIR / "default")
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)

from app import create_app  # noqa: E402
from app.config import Config  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import ApiToken, User  # noqa: E402
from tests.sites import node_site  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Encrypts secret variables in tests; a fixed value so stacks and apps agree.
TEST_SECRETS_KEY = "Hc7yTqu3eKkq6x8Xv7zRr0yL2p9mW4sB1nD5fG8hJ0k="
pytest_plugins = [
    "tests.stack",
    "tests.docker_support",
    "tests.s3",
    "tests.git_hosts",
    "tests.postgres",
]


def require_tool(name: str) -> str:
    """Return the tool's path; skip without it, or fail when CI=true."""
    path = shutil.which(name)
    if path:
        return path
    message = f"'{name}' is not installed; .ci/run installs it."
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def database_url(data_dir: Path) -> str:
    """SQLite in data_dir, or a new PostgreSQL database with SLIPWAY_TEST_DATABASE=postgresql."""
    from tests.postgres import ON_POSTGRES, postgres_database

    if ON_POSTGRES:
        return postgres_database()
    return f"sqlite:///{data_dir / 'slipway.db'}"


def make_config(data_dir: Path, **overrides) -> type:
    """A Config whose every path lives under data_dir."""
    values = {
        "TESTING": True,
        "DATA_DIR": data_dir,
        "SECRET_KEY": "test-secret",
        "SECRETS_KEY": TEST_SECRETS_KEY,
        "SQLALCHEMY_DATABASE_URI": overrides.pop("SQLALCHEMY_DATABASE_URI", None)
        or database_url(data_dir),
        "STORAGE_DIR": data_dir / "sites",
        "BUILDS_DIR": data_dir / "builds",
        "CACHE_DIR": data_dir / "cache",
        "SITES_DOMAIN": "localhost:5000",
        "WORKER_ID": "test-worker",
        **overrides,
    }
    return type("TestConfig", (Config,), values)


@contextlib.contextmanager
def running_app(data_dir: Path, **overrides):
    """An app on a migrated database under data_dir, inside its app context."""
    from flask_migrate import upgrade

    app = create_app(make_config(data_dir, **overrides))

    @app.teardown_request
    def forget_request_globals(_exc):
        # Test requests share the app context pushed below, and with it `g`:
        # without this, one request's user or token would answer for the next.
        for name in list(g):
            g.pop(name)

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path):
    with running_app(tmp_path / "data") as app:
        yield app


@pytest.fixture
def deployment(app):
    """A queued deployment of a project, straight in the database."""
    from app.models import Deployment, Project

    project = Project(name="p", slug="p", repo_url="/srv/p", branch="main")
    queued = Deployment(project=project, branch="main", commit_sha="a" * 40)
    db.session.add(queued)
    db.session.commit()
    return queued


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(app) -> User:
    user = User(username="admin", is_admin=True)
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def token(admin) -> str:
    api_token, plain = ApiToken.issue(admin, "tests")
    db.session.add(api_token)
    db.session.commit()
    return plain


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


class GitRepo:
    """A real repository on disk to import as a project."""

    def __init__(self, path: Path):
        self.path = path

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada Lovelace",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada Lovelace",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
        }
        return subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def commit(self, files: dict[str, str], message: str = "Update site") -> str:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def make_repo(tmp_path):
    """make_repo(files, message=...) -> GitRepo with one commit on main."""
    counter = iter(range(1000))

    def make(files: dict[str, str], message: str = "Initial commit", branch: str = "main"):
        path = tmp_path / f"repo{next(counter)}"
        path.mkdir()
        repo = GitRepo(path)
        repo.git("init", "--quiet", "-b", branch)
        repo.commit(files, message)
        return repo

    return make


@pytest.fixture(scope="session")
def site_files(tmp_path_factory):
    """Lock-file-complete sources per package manager, made once per run."""
    made: dict[str, dict[str, str]] = {}

    def files(manager: str) -> dict[str, str]:
        if manager not in made:
            made[manager] = node_site(manager, tmp_path_factory.mktemp(manager) / "src")
        return made[manager]

    return files
