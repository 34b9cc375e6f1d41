"""A real Slipway stack for end-to-end tests: gunicorn + gevent, a Huey consumer, Redis.

Everything runs as separate processes on loopback, exactly as `make run` starts
them, and the tests talk to it over HTTP only.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TERMINAL = {"deployed", "failed", "cancelled"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


class Service:
    """A child process whose output goes to a log file, stopped on teardown."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Service":
        log = open(self.log_path, "ab")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _database_env() -> dict[str, str]:
    """SQLite in the data directory, or a PostgreSQL database of its own (tests/postgres.py)."""
    from tests.postgres import ON_POSTGRES, postgres_database

    return {"DATABASE_URL": postgres_database()} if ON_POSTGRES else {}


class Stack:
    """gunicorn (gevent) + one Huey consumer over one data directory."""

    def __init__(
        self,
        base: Path,
        redis_url: str | None = None,
        runner: str = "local",
        web_workers: int = 1,
        **env,
    ):
        self.base = base
        self.runner = runner
        self.port = free_port()
        self.domain = f"localhost:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
            "SLIPWAY_DATA_DIR": str(base / "data"),
            "SECRET_KEY": "stack-secret",
            "SECRETS_KEY": "Hc7yTqu3eKkq6x8Xv7zRr0yL2p9mW4sB1nD5fG8hJ0k=",
            "SITES_DOMAIN": self.domain,
            "WORKER_ID": "worker-a",
            # Unique: stacks share the session's Redis and Docker daemon.
            "SLIPWAY_INSTANCE": f"test-{base.name}-{uuid.uuid4().hex[:6]}",
            "WORKERS": "2",
            "BUILD_TIMEOUT": "20",
            "BUILD_RUNNER": runner,
            "PYTHONUNBUFFERED": "1",
            **({"REDIS_URL": redis_url} if redis_url else {}),
            **_database_env(),
            **{k: str(v) for k, v in env.items()},
        }
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.instance = self.env["SLIPWAY_INSTANCE"]
        self.web = Service(
            "web",
            [
                str(VENV_BIN / "gunicorn"),
                "-k",
                "gevent",
                "-w",
                str(web_workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                "wsgi:app",
            ],
            self.env,
            base,
        )
        self.consumer = self._consumer()
        self.http = requests.Session()

    def _consumer(self) -> Service:
        return Service("consumer", [sys.executable, "huey_consumer.py"], self.env, self.base)

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def start(self, with_admin: bool = True) -> "Stack":
        self.flask("db", "upgrade")
        if with_admin:
            self.flask("users", "create", "admin", "--password", "stack-password-1", "--admin")
            self.token = self.flask("tokens", "create", "admin", "--name", "e2e")
            self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.web.start()
        self.consumer.start()
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()  # never leave a half-started stack running
            raise
        return self

    def stop(self) -> None:
        self.consumer.stop(signal.SIGINT)  # stop builds now; SIGTERM would let them finish
        self.web.stop()

    def restart_consumer(self) -> None:
        self.consumer = self._consumer().start()

    # --- talking to it -------------------------------------------------------

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.base_url}/api/v1{path}", timeout=30, **kwargs)

    def create_project(self, repo, **fields) -> dict:
        name = fields.pop("name", f"site {time.monotonic_ns()}")
        body = {"name": name, "repo_url": str(repo.path), **fields}
        response = self.api("POST", "/projects", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def deploy(self, project_id: int, **body) -> dict:
        response = self.api("POST", f"/projects/{project_id}/deploy", json=body)
        assert response.status_code == 202, response.text
        return response.json()

    def deployment(self, deployment_id: int) -> dict:
        return self.api("GET", f"/deployments/{deployment_id}").json()

    def wait(self, deployment_id: int, until=TERMINAL, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.deployment(deployment_id)
            if found["status"] in until:
                return found
            time.sleep(0.2)
        raise AssertionError(
            f"deployment {deployment_id} still {found['status']} after "
            f"{timeout}s\n{self.log_text(deployment_id)}\n{self.consumer.log()}"
        )

    def log_lines(self, deployment_id: int) -> list[dict]:
        lines, after = [], 0
        while True:
            page = self.api(
                "GET", f"/deployments/{deployment_id}/logs", params={"after": after}
            ).json()
            lines += page["lines"]
            if page["last_seq"] == after:
                return lines
            after = page["last_seq"]

    def log_text(self, deployment_id: int) -> str:
        return "\n".join(line["text"] for line in self.log_lines(deployment_id))

    def site(
        self, slug: str, path: str = "/", deployment_id: int | None = None, **kwargs
    ) -> requests.Response:
        label = f"d{deployment_id}--{slug}" if deployment_id else slug
        headers = {"Host": f"{label}.{self.domain}", **kwargs.pop("headers", {})}
        return requests.get(
            f"{self.base_url}{path}", headers=headers, timeout=10, allow_redirects=False, **kwargs
        )


def redis_service(base: Path, port: int) -> Service:
    """A redis-server on loopback that keeps nothing on disk: a restart empties it."""
    from tests.conftest import require_tool

    argv = [require_tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(base)]
    base.mkdir(parents=True, exist_ok=True)
    return Service("redis", argv, dict(os.environ), base)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on a free loopback port."""
    port = free_port()
    service = redis_service(tmp_path_factory.mktemp("redis"), port).start()
    wait_for_port(port)
    yield f"redis://127.0.0.1:{port}/0"
    service.stop()


@pytest.fixture(scope="session", params=["embedded", "redis", "docker"])
def stack(request, tmp_path_factory):
    """The whole product: the embedded default; Redis with S3 storage; building in Docker."""
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None
    options = {}
    if request.param == "redis":
        options = {"STORAGE_URL": request.getfixturevalue("seaweed").url()}
    if request.param == "docker":
        options = {
            "runner": "docker",
            "NODE_IMAGE": request.getfixturevalue("node_images"),
            "BUILD_MEMORY": "512m",
            "BUILD_PIDS_LIMIT": 128,
        }
    base = tmp_path_factory.mktemp(f"stack-{request.param}")
    running = Stack(base, redis_url=redis, **options).start()
    yield running
    running.stop()


@pytest.fixture
def fresh_stack(tmp_path):
    """The embedded default with no users at all, as a new install starts."""
    running = Stack(tmp_path / "fresh").start(with_admin=False)
    yield running
    running.stop()
