"""Dashboard pages in-process: first-run setup, login, CSRF, projects, deploy controls."""

import re

import pytest

from app.extensions import db
from app.models import Deployment, Project, User
from tests.sites import script_site


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)[1]


def login(client, username="admin", password="correct horse battery"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_from(page.text)},
    )


@pytest.fixture
def browser(client, admin):
    """A client logged in through the real login form."""
    assert login(client).status_code == 302
    return client


def page_csrf(client) -> str:
    html = client.get("/").text
    return re.search(r'"X-CSRFToken": "([^"]+)"', html)[1]


def test_first_visit_sets_up_the_first_admin_and_then_setup_is_gone(client):
    assert client.get("/").headers["Location"].endswith("/setup")
    form = client.get("/setup")
    assert "There is no default password" in form.text
    short = client.post(
        "/setup",
        data={
            "username": "root",
            "password": "short",
            "confirm": "short",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert "at least 10" in short.text.lower() or "Field must be" in short.text
    done = client.post(
        "/setup",
        data={
            "username": "root",
            "password": "long enough pw",
            "confirm": "long enough pw",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert done.status_code == 302
    user = db.session.query(User).one()
    assert user.is_admin and user.password_hash.startswith("scrypt:")
    assert client.get("/").status_code == 200  # logged in right away
    assert client.get("/setup").status_code == 404


def test_pages_need_a_login_and_wrong_passwords_are_refused(client, admin):
    assert "/login" in client.get("/projects/new").headers["Location"]
    refused = login(client, password="wrong password")
    assert refused.status_code == 200 and "Wrong username or password" in refused.text
    assert login(client).status_code == 302
    assert client.get("/projects/new").status_code == 200


def test_login_only_redirects_to_local_pages(client, admin):
    page = client.get("/login?next=//evil.example/")
    response = client.post(
        "/login?next=//evil.example/",
        data={
            "username": "admin",
            "password": "correct horse battery",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert response.headers["Location"] == "/"


def test_forms_without_a_csrf_token_are_refused(browser):
    response = browser.post("/projects/new", data={"name": "x", "repo_url": "/srv/x"})
    assert response.status_code == 400
    assert db.session.query(Project).count() == 0


def test_create_a_project_from_the_form(browser, make_repo):
    repo = make_repo(script_site("true"))
    form = browser.get("/projects/new").text
    assert "first of dist, build, out, public, _site" in form
    bad = browser.post(
        "/projects/new",
        data={"name": "Docs", "repo_url": "not a url", "csrf_token": csrf_from(form)},
    )
    assert "Use a URL git can clone" in bad.text
    created = browser.post(
        "/projects/new",
        data={
            "name": "Docs",
            "repo_url": str(repo.path),
            "branch": "main",
            "csrf_token": csrf_from(form),
        },
    )
    project = db.session.query(Project).one()
    assert created.headers["Location"] == f"/projects/{project.id}"
    page = browser.get(created.headers["Location"]).text
    assert "No deployments yet" in page and ">\n      Deploy\n" in page


def test_deploy_button_adds_a_card_and_shows_build_in_progress(browser, make_repo):
    repo = make_repo(script_site("true"), message="Ship the docs")
    project = Project(name="Docs", slug="docs", repo_url=str(repo.path), branch="main")
    db.session.add(project)
    db.session.commit()
    token = page_csrf(browser)

    card = browser.post(
        f"/projects/{project.id}/deploy", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert card.headers["HX-Trigger"] == "deployments-changed"
    deployment = db.session.query(Deployment).one()
    assert f'id="deployment-{deployment.id}"' in card.text
    assert "badge-yellow" in card.text and repo.head[:7] in card.text
    assert 'sse-connect="/api/v1/deployments/' in card.text  # follows its status live
    controls = browser.get(f"/projects/{project.id}/controls").text
    assert "Build in progress" in controls and "disabled" in controls

    cancelled = browser.post(
        f"/deployments/{deployment.id}/cancel", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert "badge-red" in cancelled.text and "sse-connect" not in cancelled.text
    assert cancelled.headers["HX-Trigger"] == "deployments-changed"
    assert "Build in progress" not in browser.get(f"/projects/{project.id}/controls").text


def test_a_deploy_that_cannot_start_says_why_in_the_controls(browser, tmp_path):
    project = Project(name="Gone", slug="gone", repo_url=str(tmp_path / "gone"), branch="main")
    db.session.add(project)
    db.session.commit()
    response = browser.post(
        f"/projects/{project.id}/deploy",
        headers={"HX-Request": "true", "X-CSRFToken": page_csrf(browser)},
    )
    assert response.headers["HX-Retarget"] == "#deploy-controls"
    assert 'role="alert"' in response.text and "Could not read the repository" in response.text


def test_settings_change_and_delete_needs_the_slug(browser, make_repo):
    repo = make_repo(script_site("true"))
    project = Project(name="Docs", slug="docs", repo_url=str(repo.path), branch="main")
    db.session.add(project)
    db.session.commit()
    form = browser.get(f"/projects/{project.id}/settings").text
    saved = browser.post(
        f"/projects/{project.id}/settings",
        data={
            "name": "Docs",
            "repo_url": str(repo.path),
            "branch": "main",
            "output_dir": "site",
            "csrf_token": csrf_from(form),
        },
    )
    assert saved.status_code == 302
    assert db.session.get(Project, project.id).output_dir == "site"
    kept = browser.post(
        f"/projects/{project.id}/delete", data={"confirm": "wrong", "csrf_token": csrf_from(form)}
    )
    assert kept.status_code == 302 and db.session.get(Project, project.id) is not None
    browser.post(
        f"/projects/{project.id}/delete", data={"confirm": "docs", "csrf_token": csrf_from(form)}
    )
    db.session.expire_all()
    assert db.session.get(Project, project.id) is None


def test_logout_ends_the_session(browser):
    browser.post("/logout", data={"csrf_token": page_csrf(browser)})
    assert "/login" in browser.get("/").headers["Location"]


def test_the_project_page_shows_the_cache_and_clears_it(browser, app):
    from app.cache import ModulesCache, cache_key

    project = Project(name="Docs", slug="docs", repo_url="/srv/docs", branch="main")
    db.session.add(project)
    db.session.commit()
    lock = app.config["DATA_DIR"] / "package-lock.json"
    lock.write_text("{}")
    key = cache_key("local:node20", "20", "npm", "10", lock, None)
    cache = ModulesCache(app.config["CACHE_DIR"])
    modules = app.config["DATA_DIR"] / "node_modules" / "x"
    modules.mkdir(parents=True)
    (modules / "index.js").write_text("x" * 2048)
    cache.store(key, modules.parent, project.id)
    cache.record(project.id, key, "miss", "no entry")

    page = browser.get(f"/projects/{project.id}").text
    assert "last install was a" in page and "miss" in page and "(no entry)" in page
    assert "1 entry" in page and "Clear build cache" in page
    cleared = browser.post(
        f"/projects/{project.id}/cache/clear",
        data={"csrf_token": page_csrf(browser)},
        follow_redirects=True,
    )
    assert "Build cache cleared: 1 entry, 0.0 MB" in cleared.text
    assert cache.entry(key) is None and "nothing cached yet" in cleared.text


def test_publishing_settings_are_validated_and_saved(browser, make_repo):
    repo = make_repo(script_site("true"))
    project = Project(name="Shop", slug="shop", repo_url=str(repo.path), branch="main")
    db.session.add(project)
    db.session.commit()
    form = browser.get(f"/projects/{project.id}/settings").text
    assert "Single-page app" in form and "Deployments to keep" in form
    base = {"name": "Shop", "repo_url": str(repo.path), "branch": "main"}
    refused = browser.post(
        f"/projects/{project.id}/settings",
        data={
            **base,
            "keep_deployments": "0",
            "public_url": "ftp://x",
            "csrf_token": csrf_from(form),
        },
    )
    assert refused.status_code == 200
    assert "Use a whole number from 1 to 1000" in refused.text
    assert "Use the site&#39;s address, like https://www.example.com" in refused.text
    saved = browser.post(
        f"/projects/{project.id}/settings",
        data={
            **base,
            "spa_fallback": "y",
            "keep_deployments": "5",
            "public_url": "https://www.example.com",
            "csrf_token": csrf_from(form),
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Project, project.id)
    assert (changed.spa_fallback, changed.hold_risky_deploys, changed.keep_deployments) == (
        True,
        False,  # an unticked box in a submitted form
        5,
    )
    assert changed.public_url == "https://www.example.com"


def test_a_held_deployment_says_why_and_offers_make_live(browser):
    project = Project(name="Shop", slug="shop", repo_url="/r", branch="main")
    live = Deployment(project=project, branch="main", commit_sha="a" * 40, status="deployed")
    held = Deployment(
        project=project,
        branch="main",
        commit_sha="b" * 40,
        status="deployed",
        held_reason="it has no index.html, which the live site has.",
        diff={
            "added": 0,
            "removed": 5,
            "changed": 1,
            "unchanged": 0,
            "bytes_before": 2048,
            "bytes_after": 10,
            "examples": {},
        },
    )
    db.session.add_all([live, held])
    db.session.commit()
    project.live_deployment_id = live.id
    db.session.commit()
    page = browser.get(f"/projects/{project.id}").text
    assert "Published as a preview, not made live: it has no index.html" in page
    assert "0 added · 5 removed · 1 changed" in page
    assert "Make live" in page
