"""Serving published sites by host name, from local storage."""

import pytest

from app.extensions import db
from app.models import Deployment, Project, Status
from app.sites import SiteAddress, parse_site_host
from app.storage import make_storage


@pytest.mark.parametrize(
    ("host", "domain", "address"),
    [
        ("blog.localhost:5000", "localhost:5000", SiteAddress("blog", None)),
        ("d42--blog.localhost:5000", "localhost:5000", SiteAddress("blog", 42)),
        ("BLOG.Localhost:5000", "localhost:5000", SiteAddress("blog", None)),
        ("blog.sites.example.com", "sites.example.com", SiteAddress("blog", None)),
        ("blog.sites.example.com:8443", "sites.example.com", SiteAddress("blog", None)),
        ("localhost:5000", "localhost:5000", None),
        ("blog.localhost:5001", "localhost:5000", None),
        ("a.b.localhost:5000", "localhost:5000", None),
        ("-x.localhost:5000", "localhost:5000", None),
        ("evil-localhost:5000", "localhost:5000", None),
    ],
)
def test_site_hosts_are_recognised(host, domain, address):
    assert parse_site_host(host, domain) == address


@pytest.fixture
def site(app, tmp_path):
    """A project with two published deployments, the first one live."""
    project = Project(name="Blog", slug="blog", repo_url="/r", branch="main")
    storage = make_storage(app.config)
    ids = []
    for version in ("one", "two"):
        deployment = Deployment(
            project=project, branch="main", commit_sha="c" * 40, status=Status.DEPLOYED
        )
        db.session.add(deployment)
        db.session.commit()
        source = tmp_path / f"out-{version}"
        (source / "docs").mkdir(parents=True)
        (source / "index.html").write_text(f"<h1>{version}</h1>")
        (source / "docs" / "index.html").write_text("docs")
        (source / "style.css").write_text("body{}")
        (source / "data.weird").write_text("?")
        if version == "two":
            (source / "404.html").write_text("custom 404")
        storage.publish(deployment.id, source)
        ids.append(deployment.id)
    project.live_deployment_id = ids[0]
    db.session.commit()
    return project, ids


def get(client, path, host="blog.localhost:5000", **kwargs):
    return client.get(path, headers={"Host": host, **kwargs.pop("headers", {})}, **kwargs)


def test_the_live_deployment_is_served_at_the_project_host(client, site):
    response = get(client, "/")
    assert response.status_code == 200
    assert response.text == "<h1>one</h1>"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers


def test_each_deployment_keeps_its_own_address(client, site):
    _, (first, second) = site
    assert get(client, "/", host=f"d{second}--blog.localhost:5000").text == "<h1>two</h1>"
    assert get(client, "/", host=f"d{first}--blog.localhost:5000").text == "<h1>one</h1>"
    assert get(client, "/", host="d999--blog.localhost:5000").status_code == 404


def test_content_types_directories_and_not_found(client, site):
    _, (_, second) = site
    assert get(client, "/style.css").headers["Content-Type"].startswith("text/css")
    assert get(client, "/data.weird").headers["Content-Type"] == "application/octet-stream"
    moved = get(client, "/docs")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/docs/")
    assert get(client, "/docs/").text == "docs"
    plain = get(client, "/missing")
    assert plain.status_code == 404 and "Page not found" in plain.text
    custom = get(client, "/missing", host=f"d{second}--blog.localhost:5000")
    assert (custom.status_code, custom.text) == (404, "custom 404")


def test_conditional_and_range_requests_work(client, site):
    first = get(client, "/style.css")
    again = get(client, "/style.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    part = get(client, "/style.css", headers={"Range": "bytes=0-3"})
    assert (part.status_code, part.text) == (206, "body")
    assert client.head("/", headers={"Host": "blog.localhost:5000"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/../../slipway.db",
        "/%2e%2e/%2e%2e/slipway.db",
        "/..%2f..%2fslipway.db",
        "/%252e%252e/slipway.db",
        "/docs/../../2/index.html",
        "/%2e%2e/2/index.html",
    ],
)
def test_path_traversal_never_leaves_the_deployment(client, site, path):
    response = get(client, path)
    assert response.status_code in (404, 301)
    assert "<h1>two</h1>" not in response.text and "SQLite" not in response.text


def test_unknown_projects_and_other_methods_are_refused(client, site):
    assert get(client, "/", host="nope.localhost:5000").status_code == 404
    assert client.post("/", headers={"Host": "blog.localhost:5000"}).status_code == 405
