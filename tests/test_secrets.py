"""Secrets: encrypted at rest, given to builds only, masked in every form before storage."""

import base64
import subprocess
import sys
from urllib.parse import quote

import pytest

from app import create_app
from app.extensions import db
from app.models import Project, Variable
from app.projects import ValidationError
from app.secrets import Masker, SecretsKeyError
from app.variables import build_environment, set_variable
from tests.conftest import ROOT, make_config

SECRET = "sk_live/4242+abc=XYZ"  # URL-encoding changes it, as real tokens often do


def test_every_form_of_a_secret_is_masked():
    mask = Masker([SECRET])
    assert mask(f"token={SECRET}!") == "token=***!"
    assert mask(quote(SECRET, safe="")) == "***"
    for prefix in (b"", b"a", b"ab", b"abc"):
        encoded = base64.b64encode(prefix + SECRET.encode() + b"tail").decode()
        assert SECRET not in mask(encoded)
        assert "***" in mask(encoded), prefix
    assert mask("nothing to see") == "nothing to see"


def test_multi_line_secrets_are_masked_line_by_line():
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----"
    mask = Masker([key])
    assert mask("MIIEvQIBADANBgkq") == "***"
    assert mask("-----BEGIN KEY-----") == "***"


@pytest.fixture
def project(app):
    project = Project(name="Shop", slug="shop", repo_url="/r", branch="main")
    db.session.add(project)
    db.session.commit()
    return project


def test_secrets_are_encrypted_at_rest_and_never_returned(app, project, client, auth):
    from app.models import ProjectMember, Role, User

    admin = db.session.query(User).first()
    db.session.add(ProjectMember(project_id=project.id, user_id=admin.id, role=Role.OWNER))
    db.session.commit()
    url = f"/api/v1/projects/{project.id}/variables"
    saved = client.put(url, json={"name": "API_KEY", "value": SECRET, "secret": True}, headers=auth)
    assert saved.status_code == 200 and saved.json["value"] is None
    row = db.session.query(Variable).filter_by(name="API_KEY").one()
    assert SECRET not in row.value and row.value.startswith("gAAAA")  # a Fernet token
    assert SECRET not in client.get(url, headers=auth).text
    assert build_environment(project.id, production=True) == ({"API_KEY": SECRET}, [SECRET])


def test_short_secrets_and_reserved_names_are_refused_with_reasons(app, project):
    with pytest.raises(ValidationError) as short:
        set_variable(project, {"name": "PIN", "value": "1234", "secret": True})
    assert "at least 6 characters" in short.value.errors["value"]
    with pytest.raises(ValidationError) as reserved:
        set_variable(project, {"name": "SLIPWAY_BRANCH", "value": "x"})
    assert "set by Slipway" in reserved.value.errors["name"]
    with pytest.raises(ValidationError) as bad:
        set_variable(project, {"name": "1X", "value": "x", "target": "staging"})
    assert set(bad.value.errors) == {"name", "target"}


def test_production_and_preview_deploys_get_their_own_values(app, project):
    set_variable(project, {"name": "API_URL", "value": "https://api.example.com"})
    set_variable(
        project, {"name": "API_URL", "value": "https://staging.example.com", "target": "preview"}
    )
    set_variable(project, {"name": "ANALYTICS", "value": "on", "target": "production"})
    db.session.commit()
    assert build_environment(project.id, production=True)[0] == {
        "API_URL": "https://api.example.com",
        "ANALYTICS": "on",
    }
    assert build_environment(project.id, production=False)[0] == {
        "API_URL": "https://staging.example.com"
    }


def test_slipway_refuses_to_start_without_a_valid_key(tmp_path):
    with pytest.raises(SecretsKeyError, match=r"SECRETS_KEY is not set.*plain text"):
        create_app(make_config(tmp_path / "a", SECRETS_KEY=None))
    with pytest.raises(SecretsKeyError, match="not a valid key"):
        create_app(make_config(tmp_path / "b", SECRETS_KEY="hunter2"))


def test_the_consumer_refuses_to_start_without_a_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SLIPWAY_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "huey_consumer.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRETS_KEY is not set" in result.stderr
    assert not (tmp_path / "secrets.key").exists()  # nothing made up behind the user's back
