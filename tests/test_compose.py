"""compose.yaml is a valid Compose file and refuses to start without its secrets."""

import os
import subprocess

import yaml

from app.config import Config
from tests.conftest import ROOT, require_tool

SETTINGS = {
    "SECRET_KEY": "k" * 32,
    "SECRETS_KEY": "Hc7yTqu3eKkq6x8Xv7zRr0yL2p9mW4sB1nD5fG8hJ0k=",
    "POSTGRES_PASSWORD": "pg-password",
    "S3_SECRET_KEY": "s3-secret",
}


def compose_config(**env) -> subprocess.CompletedProcess:
    compose = require_tool("docker-compose")
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(
        [compose, "-f", str(ROOT / "compose.yaml"), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_compose_file_is_valid_and_has_the_whole_topology():
    result = compose_config(**SETTINGS)
    assert result.returncode == 0, result.stderr
    for service in ("migrate:", "web:", "worker:", "redis:", "postgres:", "s3:"):
        assert f"  {service}" in result.stdout
    assert "/var/run/docker.sock" in result.stdout
    worker = yaml.safe_load(result.stdout)["services"]["worker"]
    longest_build = Config.CLONE_TIMEOUT + Config.INSTALL_TIMEOUT + Config.BUILD_TIMEOUT
    assert worker["stop_signal"] == "SIGTERM"  # the consumer drains on it
    assert int(worker["stop_grace_period"].removesuffix("m")) * 60 > longest_build
    assert "appendonly" in result.stdout


def test_every_service_gets_the_shared_settings_and_only_web_trusts_a_proxy():
    services = yaml.safe_load(compose_config(**SETTINGS).stdout)["services"]
    for name in ("migrate", "web", "worker"):
        env = services[name]["environment"]
        assert env["SECRETS_KEY"] == SETTINGS["SECRETS_KEY"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://slipway:pg-password@")
    assert services["web"]["environment"]["PROXY_HOPS"] == "1"
    assert services["web"]["ports"] == ["127.0.0.1:5000:5000/tcp"]  # loopback only
    assert "PROXY_HOPS" not in services["worker"]["environment"]
    assert services["worker"]["environment"]["BUILD_RUNNER"] == "docker"


def test_compose_refuses_to_run_without_the_keys():
    missing = {k: v for k, v in SETTINGS.items() if k != "SECRETS_KEY"}
    result = compose_config(**missing)
    assert result.returncode != 0
    assert "SECRETS_KEY" in result.stderr
