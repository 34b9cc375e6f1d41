"""Login limits, sessions, headers, the queue cap and a database that goes away."""

import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import Deployment, Project, Status, User
from app.models.user import utcnow
from app.pipeline import dispatch
from tests.conftest import running_app
from tests.postgres import drop_database
from tests.sites import script_site
from tests.test_web import login, page_csrf


@pytest.fixture
def limited_app(tmp_path):
    with running_app(tmp_path / "data", LOGIN_RATE_LIMIT="3 per minute") as app:
        user = User(username="ada")
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        yield app


def test_login_attempts_are_rate_limited(limited_app):
    client = limited_app.test_client()
    for _ in range(3):
        assert login(client, "ada", "wrong password!").status_code == 200
    blocked = login(client, "ada", "correct horse battery")
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text and "wait a minute" in blocked.text


def attempts_from(app, forwarded_for: str, count: int) -> list[int]:
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return [login(client, "ada", "wrong password!").status_code for _ in range(count)]


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(limited_app, tmp_path):
    # No proxy configured: a client cannot dodge the limit by naming other addresses.
    assert attempts_from(limited_app, "10.0.0.1", 3) == [200, 200, 200]
    assert attempts_from(limited_app, "10.0.0.2", 1) == [429]
    with running_app(tmp_path / "proxied", LOGIN_RATE_LIMIT="3 per minute", PROXY_HOPS=1) as app:
        user = User(username="ada")
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        assert attempts_from(app, "10.0.0.1", 4) == [200, 200, 200, 429]
        assert attempts_from(app, "10.0.0.2", 1) == [200]  # another client behind the proxy
        # The proxy's own hop is the one trusted: a spoofed earlier entry changes nothing.
        assert attempts_from(app, "10.9.9.9, 10.0.0.1", 1) == [429]


def test_a_session_expires(tmp_path):
    with running_app(tmp_path / "data", PERMANENT_SESSION_LIFETIME=1) as app:
        user = User(username="ada")
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.commit()
        client = app.test_client()
        assert login(client, "ada", "correct horse battery").status_code == 302
        assert client.get("/").status_code == 200
        time.sleep(2.5)  # signatures carry whole seconds
        assert client.get("/").status_code == 302  # back to the login page


def test_the_dashboard_sends_strict_headers_and_sites_do_not_get_them(client, admin, app):
    login(client)
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in page.text and " style=" not in page.text
    project = Project(name="S", slug="s", repo_url="/r", branch="main")
    db.session.add(project)
    db.session.commit()
    site = client.get("/", headers={"Host": "s.localhost:5000"})
    assert site.status_code == 404 and "Content-Security-Policy" not in site.headers


def test_past_the_queue_cap_deploys_answer_429_and_the_page_says_why(tmp_path, make_repo):
    repo = make_repo(script_site("true"))
    with running_app(tmp_path / "data", MAX_QUEUED=2) as app:
        admin = User(username="admin", is_admin=True)
        admin.set_password("correct horse battery")
        project = Project(name="S", slug="s", repo_url=str(repo.path), branch="main")
        db.session.add_all([admin, project])
        for _ in range(2):
            db.session.add(Deployment(project=project, branch="main", commit_sha="a" * 40))
        db.session.commit()
        from app.models import ApiToken

        token, plain = ApiToken.issue(admin, "t")
        db.session.add(token)
        db.session.commit()
        client = app.test_client()
        answer = client.post(
            f"/api/v1/projects/{project.id}/deploy", headers={"Authorization": f"Bearer {plain}"}
        )
        assert answer.status_code == 429 and answer.headers["Retry-After"] == "30"
        assert "2 deployments are waiting already (MAX_QUEUED is 2)" in answer.json["error"]
        assert db.session.query(Deployment).count() == 2  # nothing stored
        login(client)
        pressed = client.post(
            f"/projects/{project.id}/deploy",
            data={"csrf_token": page_csrf(client)},
            headers={"HX-Request": "true"},
        )
        assert "MAX_QUEUED is 2" in pressed.text


def test_a_database_that_goes_away_gets_a_503_not_a_traceback(client, auth, app, admin):
    login(client)
    db.session.remove()
    db.engine.dispose()
    if db.engine.dialect.name == "sqlite":
        db_file = app.config["DATA_DIR"] / "slipway.db"
        db_file.rename(db_file.with_suffix(".moved"))
        db_file.mkdir()  # nothing can open a database here now
    else:
        drop_database(app.config["SQLALCHEMY_DATABASE_URI"])
    api = client.get("/api/v1/projects", headers=auth)
    assert api.status_code == 503 and "cannot reach its database" in api.json["error"]
    page = client.get("/")
    assert page.status_code == 503 and "cannot reach its database" in page.text
    assert "Traceback" not in page.text


def test_the_dispatcher_finds_queued_deployments_no_task_touched(app):
    project = Project(name="S", slug="s", repo_url="/r", branch="main")
    fresh = Deployment(project=project, branch="main", commit_sha="a" * 40, dispatched_at=utcnow())
    stale = Deployment(
        project=project,
        branch="main",
        commit_sha="b" * 40,
        dispatched_at=utcnow() - timedelta(minutes=5),
    )
    never = Deployment(project=project, branch="main", commit_sha="c" * 40)
    done = Deployment(project=project, branch="main", commit_sha="d" * 40, status=Status.DEPLOYED)
    db.session.add_all([fresh, stale, never, done])
    db.session.commit()
    enqueued = []
    assert dispatch.dispatch_stranded(enqueued.append) == [stale.id, never.id]
    assert enqueued == [stale.id, never.id]
    assert dispatch.stranded() == []  # touched: not enqueued twice in a row
