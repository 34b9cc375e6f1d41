"""Who may do what: every endpoint against every kind of caller, tokens, private previews."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.models import ApiToken, Deployment, Project, ProjectMember, Role, Status, User
from app.models.user import utcnow
from app.storage import build_manifest, make_storage
from tests.sites import script_site
from tests.test_web import login

PASSWORD = "correct horse battery"


@pytest.fixture
def world(app, make_repo, tmp_path):
    """Two projects; users with each role on the first; a token of each kind."""
    repo = make_repo(script_site("true"))
    shop = Project(name="Shop", slug="shop", repo_url=str(repo.path), branch="main")
    other = Project(name="Other", slug="other", repo_url=str(repo.path), branch="main")
    users = {}
    for name in ("admin", "owner", "deployer", "viewer", "outsider"):
        users[name] = User(username=name, is_admin=name == "admin")
        users[name].set_password(PASSWORD)
    db.session.add_all([shop, other, *users.values()])
    db.session.flush()
    for role in ("owner", "deployer", "viewer"):
        db.session.add(ProjectMember(project_id=shop.id, user_id=users[role].id, role=Role(role)))
    db.session.add(
        ProjectMember(project_id=other.id, user_id=users["outsider"].id, role=Role.OWNER)
    )
    deployed = Deployment(project=shop, branch="main", commit_sha="a" * 40, status=Status.DEPLOYED)
    queued = Deployment(project=shop, branch="main", commit_sha="b" * 40)
    db.session.add_all([deployed, queued])
    db.session.commit()
    tokens = {}
    for name, user in users.items():
        tokens[name] = _token(user)
    tokens["expired"] = _token(users["owner"], expires_at=utcnow() - timedelta(minutes=1))
    tokens["revoked"] = _token(users["owner"], revoked_at=utcnow())
    tokens["other-project"] = _token(users["admin"], project_id=other.id)
    tokens["this-project"] = _token(users["admin"], project_id=shop.id)
    return {"shop": shop, "deployed": deployed, "queued": queued, "tokens": tokens}


def _token(user, **fields) -> str:
    token, plain = ApiToken.issue(user, "t")
    for key, value in fields.items():
        setattr(token, key, value)
    db.session.add(token)
    db.session.commit()
    return plain


# (method, path, body, action, status when allowed), in an order where nothing an
# earlier call does changes what a later one may do; deletion comes last.
ENDPOINTS = [
    ("GET", "/projects/{p}", None, "view", 200),
    ("GET", "/projects/{p}/deployments", None, "view", 200),
    ("GET", "/projects/{p}/cache", None, "view", 200),
    ("GET", "/projects/{p}/members", None, "view", 200),
    ("GET", "/projects/{p}/audit", None, "view", 200),
    ("GET", "/deployments/{d}", None, "view", 200),
    ("GET", "/deployments/{d}/logs", None, "view", 200),
    ("GET", "/deployments/{d}/events", None, "view", 200),
    ("GET", "/projects/{p}/variables", None, "manage", 200),
    ("PUT", "/projects/{p}/variables", {"name": "API_URL", "value": "x"}, "manage", 200),
    ("DELETE", "/projects/{p}/variables/API_URL", None, "manage", 204),
    ("PUT", "/projects/{p}/members", {"username": "viewer", "role": "viewer"}, "manage", 200),
    ("PATCH", "/projects/{p}", {"branch": "main"}, "manage", 200),
    ("DELETE", "/projects/{p}/cache", None, "manage", 200),
    ("POST", "/deployments/{d}/promote", None, "deploy", 200),
    ("POST", "/deployments/{q}/cancel", None, "deploy", 200),
    ("POST", "/projects/{p}/deploy", None, "deploy", 202),
    ("DELETE", "/projects/{p}", None, "manage", 409),  # the new deploy is queued
]
ROLE_OF = {
    "admin": "owner",
    "this-project": "owner",
    "owner": "owner",
    "deployer": "deployer",
    "viewer": "viewer",
}
ALLOWED = {
    "view": {"owner", "deployer", "viewer"},
    "deploy": {"owner", "deployer"},
    "manage": {"owner"},
}
CALLERS = [
    "admin", "owner", "deployer", "viewer", "outsider", "anonymous",
    "expired", "revoked", "other-project", "this-project",
]  # fmt: skip


def expected(caller: str, action: str, allowed_status: int) -> int:
    if caller in ("anonymous", "expired", "revoked"):
        return 401
    role = ROLE_OF.get(caller)
    if role is None:
        return 404  # outsiders cannot tell the project exists
    return allowed_status if role in ALLOWED[action] else 403


@pytest.mark.parametrize("caller", CALLERS)
def test_every_endpoint_answers_each_caller_by_role(client, world, caller):
    ids = {"p": world["shop"].id, "d": world["deployed"].id, "q": world["queued"].id}
    headers = {}
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {world['tokens'][caller]}"
    answers = []
    for method, path, body, _action, _status in ENDPOINTS:
        url = "/api/v1" + path.format(**ids)
        response = client.open(url, method=method, json=body, headers=headers)
        answers.append((method, path, response.status_code))
        db.session.expire_all()
    wanted = [(m, p, expected(caller, a, s)) for m, p, _, a, s in ENDPOINTS]
    assert answers == wanted


@pytest.mark.parametrize(
    ("caller", "visible"),
    [("admin", ["Other", "Shop"]), ("viewer", ["Shop"]), ("outsider", ["Other"]),
     ("other-project", ["Other"])],
)  # fmt: skip
def test_project_lists_show_only_what_the_caller_may_see(client, world, caller, visible):
    headers = {"Authorization": f"Bearer {world['tokens'][caller]}"}
    names = [p["name"] for p in client.get("/api/v1/projects", headers=headers).json["projects"]]
    assert names == visible


def test_a_restricted_token_cannot_create_projects_or_tokens(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['this-project']}"}
    made = client.post("/api/v1/projects", json={"name": "x", "repo_url": "/r"}, headers=headers)
    assert made.status_code == 403
    token = client.post("/api/v1/tokens", json={"name": "escape"}, headers=headers)
    assert token.status_code == 403


def test_tokens_are_shown_once_stored_hashed_and_revocable(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['owner']}"}
    made = client.post(
        "/api/v1/tokens",
        json={"name": "ci", "expires_in_days": 30, "project_id": world["shop"].id},
        headers=headers,
    )
    assert made.status_code == 201
    plain, token_id = made.json["token"], made.json["id"]
    assert plain.startswith("slw_") and made.json["expires_at"]
    stored = db.session.get(ApiToken, token_id)
    assert plain not in (stored.token_hash, stored.name)
    listed = client.get("/api/v1/tokens", headers=headers).json["tokens"]
    assert all("token" not in t for t in listed)
    new = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/api/v1/projects/{world['shop'].id}", headers=new).status_code == 200
    assert client.get("/api/v1/tokens", headers=new).json["tokens"][0]["last_used_at"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/projects/{world['shop'].id}", headers=new).status_code == 401
    refused = client.post(
        "/api/v1/tokens", json={"name": "", "expires_in_days": 0}, headers=headers
    )
    assert set(refused.json["fields"]) == {"name", "expires_in_days"}


def test_the_last_owner_cannot_leave_or_be_demoted(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['owner']}"}
    shop = world["shop"].id
    demoted = client.put(
        f"/api/v1/projects/{shop}/members", json={"username": "owner", "role": "viewer"},
        headers=headers,
    )  # fmt: skip
    assert demoted.status_code == 422 and "at least one owner" in demoted.json["error"]
    assert (
        client.delete(f"/api/v1/projects/{shop}/members/owner", headers=headers).status_code == 409
    )
    unknown = client.put(
        f"/api/v1/projects/{shop}/members", json={"username": "nobody", "role": "viewer"},
        headers=headers,
    )  # fmt: skip
    assert unknown.status_code == 422


def test_actions_leave_an_audit_trail_without_secret_values(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['owner']}"}
    shop = world["shop"].id
    client.patch(f"/api/v1/projects/{shop}", json={"build_command": "npm run b"}, headers=headers)
    client.put(
        f"/api/v1/projects/{shop}/variables",
        json={"name": "TOKEN", "value": "sentinel-audit-9f8e7d", "secret": True},
        headers=headers,
    )
    client.post(f"/api/v1/deployments/{world['deployed'].id}/promote", headers=headers)
    client.post(f"/api/v1/deployments/{world['queued'].id}/cancel", headers=headers)
    events = client.get(f"/api/v1/projects/{shop}/audit", headers=headers).json["events"]
    assert [(e["action"], e["user"]) for e in events] == [
        ("deploy_cancelled", "owner"),
        ("promoted", "owner"),
        ("variable_set", "owner"),
        ("settings_changed", "owner"),
    ]
    assert events[3]["detail"] == {"fields": ["build_command"]}
    assert events[2]["detail"] == {"name": "TOKEN", "target": "all", "secret": True}
    assert "sentinel-audit" not in str(events)
    page_client = client.application.test_client()
    login(page_client, "viewer", PASSWORD)
    assert "variable set · name TOKEN" in page_client.get(f"/projects/{shop}").text


@pytest.mark.parametrize(
    ("who", "project_page", "settings", "deploy_button"),
    [("owner", 200, 200, True), ("deployer", 200, 403, True), ("viewer", 200, 403, False),
     ("outsider", 404, 404, False)],
)  # fmt: skip
def test_pages_follow_the_same_roles(app, world, who, project_page, settings, deploy_button):
    browser = app.test_client()
    login(browser, who, PASSWORD)
    shop = world["shop"].id
    page = browser.get(f"/projects/{shop}")
    assert page.status_code == project_page
    assert browser.get(f"/projects/{shop}/settings").status_code == settings
    assert ('class="primary deploy"' in page.text) is deploy_button
    summary = browser.get(f"/deployments/{world['deployed'].id}/summary")
    assert summary.status_code == (404 if who == "outsider" else 200)


def test_private_previews_need_a_member_and_the_live_site_stays_public(app, world, tmp_path):
    shop, deployed = world["shop"], world["deployed"]
    source = tmp_path / "out"
    source.mkdir()
    (source / "index.html").write_text("preview")
    make_storage(app.config).publish(build_manifest(deployed.id, source), source)
    shop.live_deployment_id = deployed.id
    shop.private_previews = True
    db.session.commit()
    preview_host = {"Host": f"d{deployed.id}--shop.localhost:5000"}
    anonymous = app.test_client()
    assert anonymous.get("/", headers=preview_host).status_code == 404
    assert anonymous.get("/", headers={"Host": "shop.localhost:5000"}).text == "preview"

    viewer = app.test_client()
    login(viewer, "viewer", PASSWORD)
    handoff = viewer.get(f"/deployments/{deployed.id}/open")
    assert handoff.status_code == 302
    link = handoff.headers["Location"]
    assert link.startswith(f"http://d{deployed.id}--shop.localhost:5000/_slipway/auth?t=")
    visitor = app.test_client()
    entered = visitor.get(link.split("5000", 1)[1], headers=preview_host)
    assert entered.status_code == 303 and "HttpOnly" in entered.headers["Set-Cookie"]
    assert visitor.get("/", headers=preview_host).text == "preview"
    # The cookie is for the shop's previews only, and ends with the membership.
    other_host = {"Host": f"d{deployed.id}--other.localhost:5000"}
    assert visitor.get("/", headers=other_host).status_code == 404
    db.session.query(ProjectMember).filter_by(role=Role.VIEWER).delete()
    db.session.commit()
    assert visitor.get("/", headers=preview_host).status_code == 404
    outsider = app.test_client()
    login(outsider, "outsider", PASSWORD)
    assert outsider.get(f"/deployments/{deployed.id}/open").status_code == 404
