"""Stand-ins for the Git hosts the tests cannot reach: a real Git server, and GitHub's API.

The Git server is `git http-backend` (git's own smart-HTTP server) behind a
small WSGI app with basic auth, on loopback. The GitHub API stand-in answers
the few REST endpoints Slipway calls, from real repositories on disk.
"""

import base64
import subprocess
import threading
from pathlib import Path

import pytest
from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server
from werkzeug.wsgi import get_input_stream

from tests.conftest import GitRepo

# One token for both: a GitHub token is also what clones GitHub's private repositories.
TOKEN = "github_pat_standin_71c9a4e3"


class Server:
    """A WSGI app served on a free loopback port in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()


class GitServer:
    """Repositories under `root` over smart HTTP; private ones need user and token."""

    def __init__(self, root: Path, token: str):
        self.root = root
        self.token = token
        self.private: set[str] = set()
        self.authorizations: list[str] = []  # what clients sent, to check how they logged in
        self.http = Server(self.wsgi)

    def add(self, repo: GitRepo, name: str, private: bool = False) -> str:
        """Serve `repo` as <name>.git; return its clone URL."""
        bare = self.root / f"{name}.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(repo.path), str(bare)], check=True)
        if private:
            self.private.add(f"{name}.git")
        return f"{self.http.url}/{name}.git"

    def push(self, repo: GitRepo, name: str) -> None:
        repo.git("push", "--quiet", "--force", str(self.root / f"{name}.git"), "HEAD:main")

    def wsgi(self, environ, start_response):
        repository = environ["PATH_INFO"].lstrip("/").split("/", 1)[0]
        given = environ.get("HTTP_AUTHORIZATION", "")
        self.authorizations.append(given)
        if repository in self.private and not self._authorised(given):
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"authentication required\n"]
        return self._backend(environ, start_response)

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        _, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return password == self.token

    def _backend(self, environ, start_response):
        env = {
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": environ["PATH_INFO"],
            "QUERY_STRING": environ.get("QUERY_STRING", ""),
            "REQUEST_METHOD": environ["REQUEST_METHOD"],
            "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_USER": "git",
            "GIT_PROTOCOL": environ.get("HTTP_GIT_PROTOCOL", ""),
            "HTTP_CONTENT_ENCODING": environ.get("HTTP_CONTENT_ENCODING", ""),
            "PATH": "/usr/bin:/bin",
        }
        body = get_input_stream(environ).read()  # knows Content-Length and chunked bodies
        output = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        ).stdout
        head, _, content = output.partition(b"\r\n\r\n")
        status, headers = "200 OK", []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = value
            elif name:
                headers.append((name, value))
        start_response(status, headers)
        return [content]


class GitHubStandIn:
    """GitHub's REST API for one token: repositories, commits (read from disk), statuses."""

    def __init__(self, token: str, login: str = "ada"):
        self.token = token
        self.login = login
        self.repos: dict[str, dict] = {}  # full_name -> API item
        self.checkouts: dict[str, GitRepo] = {}
        self.statuses: list[dict] = []
        self.http = Server(self._app())

    def add(self, full_name: str, clone_url: str, repo: GitRepo | None = None, **fields) -> None:
        self.repos[full_name] = {
            "full_name": full_name,
            "clone_url": clone_url,
            "default_branch": fields.get("default_branch", "main"),
            "private": fields.get("private", False),
            "description": fields.get("description", ""),
        }
        if repo is not None:
            self.checkouts[full_name] = repo

    def _app(self) -> Flask:
        app = Flask("github-stand-in")

        @app.before_request
        def authenticate():
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return jsonify(message="Bad credentials"), 401
            return None

        @app.get("/user")
        def user():
            return jsonify(login=self.login)

        @app.get("/user/repos")
        def repos():
            per_page, page = int(request.args["per_page"]), int(request.args.get("page", 1))
            items = sorted(self.repos.values(), key=lambda r: r["full_name"])
            chunk = items[(page - 1) * per_page : page * per_page]
            response = jsonify(chunk)
            if page * per_page < len(items):
                next_url = f"{request.base_url}?per_page={per_page}&page={page + 1}"
                response.headers["Link"] = f'<{next_url}>; rel="next"'
            return response

        @app.get("/repos/<owner>/<name>")
        def repository(owner, name):
            found = self.repos.get(f"{owner}/{name}") or abort(404)
            return jsonify(found)

        @app.get("/repos/<owner>/<name>/commits/<path:branch>")
        def commit(owner, name, branch):
            repo = self.checkouts.get(f"{owner}/{name}") or abort(404)
            try:
                sha = repo.git("rev-parse", f"refs/heads/{branch}")
            except subprocess.CalledProcessError:
                abort(404)
            message = repo.git("log", "-1", "--format=%B", sha)
            author = {
                "name": repo.git("log", "-1", "--format=%an", sha),
                "email": "ada@example.com",
            }
            return jsonify(sha=sha, commit={"message": message, "author": author})

        @app.post("/repos/<owner>/<name>/statuses/<sha>")
        def status(owner, name, sha):
            self.statuses.append({"repo": f"{owner}/{name}", "sha": sha, **request.get_json()})
            return jsonify(id=len(self.statuses)), 201

        return app


@pytest.fixture
def git_server(tmp_path):
    server = GitServer(tmp_path / "git-server", token=TOKEN)
    server.root.mkdir()
    server.http.start()
    yield server
    server.http.stop()


@pytest.fixture
def github(tmp_path):
    stand_in = GitHubStandIn(token=TOKEN)
    stand_in.http.start()
    yield stand_in
    stand_in.http.stop()
