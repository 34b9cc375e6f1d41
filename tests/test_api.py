"""The JSON API in-process: auth, validation, errors, and what gets stored."""

import pytest

from app.extensions import db
from app.models import Deployment, Project, Status
from app.pipeline import state
from tests.sites import script_site


@pytest.fixture
def repo(make_repo):
    return make_repo(script_site("true"), message="Hello API")


def create(client, auth, **body):
    return client.post("/api/v1/projects", json=body, headers=auth)


def test_every_call_needs_a_valid_token(client, admin):
    assert client.get("/api/v1/projects").status_code == 401
    response = client.get("/api/v1/projects", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json == {
        "error": "The API token is invalid, expired or revoked; create a new one."
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_requests_leave_no_session_behind(client, auth):
    response = client.get("/api/v1/projects", headers=auth)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_create_read_update_delete_a_project(client, auth, repo):
    created = create(
        client, auth, name="Marketing Site", repo_url=str(repo.path), output_dir="public"
    )
    assert created.status_code == 201
    project = created.json
    assert (project["slug"], project["branch"], project["output_dir"]) == (
        "marketing-site",
        "main",
        "public",
    )

    assert client.get(f"/api/v1/projects/{project['id']}", headers=auth).json["name"] == (
        "Marketing Site"
    )
    patched = client.patch(
        f"/api/v1/projects/{project['id']}",
        json={"node_version": "20", "output_dir": ""},
        headers=auth,
    )
    assert (patched.json["node_version"], patched.json["output_dir"]) == ("20", None)
    assert patched.json["slug"] == "marketing-site"
    listed = client.get("/api/v1/projects", headers=auth).json["projects"]
    assert [p["id"] for p in listed] == [project["id"]]
    assert client.delete(f"/api/v1/projects/{project['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/projects/{project['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"repo_url": "/srv/x"}, "name", "required"),
        ({"name": "x"}, "repo_url", "required"),
        ({"name": "x", "repo_url": "--upload-pack=touch /tmp/pwned"}, "repo_url", "Use a URL"),
        ({"name": "x", "repo_url": "ext::sh -c touch% /tmp/pwned"}, "repo_url", "Use a URL"),
        ({"name": "x", "repo_url": "/srv/x", "branch": "-delete"}, "branch", "not a valid"),
        ({"name": "x", "repo_url": "/srv/x", "branch": "a..b"}, "branch", "not a valid"),
        ({"name": "x", "repo_url": "/srv/x", "root_dir": "../up"}, "root_dir", "inside the"),
        ({"name": "x", "repo_url": "/srv/x", "output_dir": "/etc"}, "output_dir", "inside the"),
        ({"name": "x", "repo_url": "/srv/x", "node_version": "latest"}, "node_version", "like 20"),
        ({"name": "x" * 101, "repo_url": "/srv/x"}, "name", "At most 100"),
        ({"name": "!!!", "repo_url": "/srv/x"}, "name", "letter or digit"),
        ({"name": 5, "repo_url": "/srv/x"}, "name", "Must be a string"),
        ({"name": "x", "repo_url": "/srv/x", "colour": "red"}, "colour", "Unknown field"),
    ],
)
def test_bad_project_fields_are_named_and_nothing_is_stored(client, auth, body, field, words):
    response = create(client, auth, **body)
    assert response.status_code == 422
    assert words in response.json["fields"][field]
    assert db.session.query(Project).count() == 0


def test_unicode_names_become_ascii_slugs(client, auth, repo):
    response = create(client, auth, name="Café Crème ☕", repo_url=str(repo.path))
    assert response.json["slug"] == "cafe-creme"


def test_malformed_bodies_get_json_errors(client, auth):
    malformed = client.post(
        "/api/v1/projects", data="{", headers={**auth, "Content-Type": "application/json"}
    )
    assert (malformed.status_code, malformed.json) == (
        400,
        {"error": "The request body must be a JSON object."},
    )
    wrong_type = client.post(
        "/api/v1/projects",
        data="name=x",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong_type.status_code == 415
    too_big = client.post(
        "/api/v1/projects",
        data="x" * (2 * 1024 * 1024),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413 and "error" in too_big.json
    assert client.get("/api/v1/nothing", headers=auth).json == {
        "error": "The requested URL was not found on the server. If you entered the URL "
        "manually please check your spelling and try again."
    }


def test_deploy_records_the_exact_commit_before_enqueueing(client, auth, repo):
    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    response = client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth)
    assert response.status_code == 202
    body = response.json
    assert (body["status"], body["branch"], body["commit_sha"]) == ("queued", "main", repo.head)
    assert body["task_id"]
    stored = db.session.get(Deployment, body["deployment_id"])
    assert (stored.commit_sha, stored.task_id) == (repo.head, body["task_id"])


def test_deploy_of_a_missing_branch_or_repository_stores_nothing(client, auth, repo, tmp_path):
    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    missing = client.post(
        f"/api/v1/projects/{project['id']}/deploy", json={"branch": "gone"}, headers=auth
    )
    assert missing.status_code == 422 and "'gone' was not found" in missing.json["error"]
    broken = create(client, auth, name="Broken", repo_url=str(tmp_path / "nothing")).json
    unreachable = client.post(f"/api/v1/projects/{broken['id']}/deploy", headers=auth)
    assert unreachable.status_code == 422
    assert "Could not read the repository" in unreachable.json["error"]
    assert db.session.query(Deployment).count() == 0


def test_clone_errors_never_show_credentials(client, auth):
    project = create(
        client,
        auth,
        name="Private",
        repo_url="https://deploy:s3cr3t-token@127.0.0.1:1/owner/repo.git",
    ).json
    response = client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth)
    assert response.status_code == 422
    assert "s3cr3t-token" not in response.text
    assert "https://***@127.0.0.1:1/owner/repo.git" in response.json["error"]


def test_cancel_a_queued_deployment_then_it_has_ended(client, auth, repo):
    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    deployment_id = client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth).json[
        "deployment_id"
    ]
    cancelled = client.post(f"/api/v1/deployments/{deployment_id}/cancel", headers=auth)
    assert (cancelled.status_code, cancelled.json["status"]) == (200, "cancelled")
    again = client.post(f"/api/v1/deployments/{deployment_id}/cancel", headers=auth)
    assert again.status_code == 409 and "already ended" in again.json["error"]
    logs = client.get(f"/api/v1/deployments/{deployment_id}/logs", headers=auth).json
    assert logs["done"] is True and logs["status"] == "cancelled"
    assert [line["text"] for line in logs["lines"]] == ["Cancelled before the build started."]


def test_cancel_of_a_running_deployment_asks_its_worker(client, auth, repo):
    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    deployment_id = client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth).json[
        "deployment_id"
    ]
    state.claim(deployment_id, "w1")
    response = client.post(f"/api/v1/deployments/{deployment_id}/cancel", headers=auth)
    assert response.status_code == 200
    assert db.session.get(Deployment, deployment_id).cancel_requested


def test_a_project_with_a_running_build_is_not_deleted(client, auth, repo):
    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth)
    response = client.delete(f"/api/v1/projects/{project['id']}", headers=auth)
    assert response.status_code == 409
    assert db.session.get(Project, project["id"]) is not None


def test_logs_page_through_after_a_sequence_number(client, auth, repo):
    from app.logs import LogWriter

    project = create(client, auth, name="Site", repo_url=str(repo.path)).json
    deployment_id = client.post(f"/api/v1/projects/{project['id']}/deploy", headers=auth).json[
        "deployment_id"
    ]
    writer = LogWriter(deployment_id)
    for i in range(5):
        writer.write("stdout", f"line {i}")
    writer.status(Status.BUILDING, "build")
    writer.close()
    page = client.get(f"/api/v1/deployments/{deployment_id}/logs?after=2", headers=auth).json
    assert [(line["seq"], line["text"]) for line in page["lines"]] == [
        (3, "line 2"),
        (4, "line 3"),
        (5, "line 4"),
    ]
    assert page["last_seq"] == 6 and page["done"] is False
    assert {"seq", "ts", "stream", "text"} == set(page["lines"][0])
