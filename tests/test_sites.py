"""Serving published sites by host name, from local storage and from S3 (SeaweedFS)."""

import gzip
import threading

import pytest

from app.extensions import db
from app.models import Deployment, Project, Status
from app.sites import SiteAddress, parse_site_host
from app.storage import build_manifest, make_storage
from tests.conftest import running_app

LONG_SCRIPT = "console.log('slipway');\n" * 200  # compressible, above the gzip threshold


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
def app(tmp_path, storage_settings):
    """The app once with each storage backend."""
    with running_app(tmp_path / "data", **storage_settings) as app:
        yield app


def publish(app, project, files: dict[str, str], tmp_path) -> int:
    """Publish `files` as a new deployed deployment of `project`; return its id."""
    deployment = Deployment(
        project=project, branch="main", commit_sha="c" * 40, status=Status.DEPLOYED
    )
    db.session.add(deployment)
    db.session.commit()
    source = tmp_path / f"out-{deployment.id}"
    for path, text in files.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(text)
    make_storage(app.config).publish(build_manifest(deployment.id, source), source)
    return deployment.id


@pytest.fixture
def site(app, tmp_path):
    """A project with two published deployments, the first one live."""
    project = Project(name="Blog", slug="blog", repo_url="/r", branch="main")
    ids = []
    for version in ("one", "two"):
        files = {
            "index.html": f"<h1>{version}</h1>",
            "docs/index.html": "docs",
            "about.html": "about",
            "style.css": "body{}",
            "data.weird": "?",
            "assets/app-B3xYz12a.js": LONG_SCRIPT,
        }
        if version == "two":
            files["404.html"] = "custom 404"
        ids.append(publish(app, project, files, tmp_path))
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
    moved = get(client, "/docs", query_string={"x": "1"})
    assert moved.status_code == 301 and moved.headers["Location"] == "/docs/?x=1"
    assert get(client, "/docs/").text == "docs"
    assert get(client, "/about").text == "about"
    plain = get(client, "/missing")
    assert plain.status_code == 404 and "Page not found" in plain.text
    custom = get(client, "/missing", host=f"d{second}--blog.localhost:5000")
    assert (custom.status_code, custom.text) == (404, "custom 404")


def test_fingerprinted_assets_are_cached_for_a_year_and_other_files_revalidate(client, site):
    asset = get(client, "/assets/app-B3xYz12a.js")
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert (
        get(client, "/style.css").headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    )


def test_gzip_variant_is_served_only_to_clients_that_accept_it(client, site):
    packed = get(client, "/assets/app-B3xYz12a.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) < len(LONG_SCRIPT) / 5
    assert gzip.decompress(packed.data).decode() == LONG_SCRIPT
    plain = get(client, "/assets/app-B3xYz12a.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.text == LONG_SCRIPT
    assert plain.headers["ETag"] != packed.headers["ETag"]
    small = get(client, "/style.css", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers  # too small to be worth a variant


def test_conditional_and_range_requests_work(client, site):
    first = get(client, "/assets/app-B3xYz12a.js")
    again = get(client, "/assets/app-B3xYz12a.js", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    part = get(client, "/assets/app-B3xYz12a.js", headers={"Range": "bytes=13-19"})
    assert (part.status_code, part.text) == (206, "slipway")
    assert part.headers["Content-Range"] == f"bytes 13-19/{len(LONG_SCRIPT)}"
    tail = get(
        client, "/assets/app-B3xYz12a.js", headers={"Range": f"bytes={len(LONG_SCRIPT) - 3}-"}
    )
    assert tail.text == ");\n"
    head = client.head("/", headers={"Host": "blog.localhost:5000"})
    assert (head.status_code, head.data, head.headers["Content-Length"]) == (200, b"", "12")


@pytest.mark.parametrize(
    "path",
    [
        "/../../slipway.db",
        "/%2e%2e/%2e%2e/slipway.db",
        "/..%2f..%2fslipway.db",
        "/%252e%252e/slipway.db",
        "/%252e%252e%252f2/index.html",
        "/docs/../../2/index.html",
        "/%2e%2e/2/index.html",
        "/..%5c..%5cslipway.db",
        "/.%2e/.%2e/manifest.json",
        "/../files/index.html",
        "/%2e%2e%2fmanifest.json",
        "/%00index.html",
    ],
)
def test_path_traversal_never_leaves_the_deployment(client, site, path):
    response = get(client, path)
    assert response.status_code == 404
    assert response.text == "Page not found.\n"


def test_unknown_projects_and_other_methods_are_refused(client, site):
    assert get(client, "/", host="nope.localhost:5000").status_code == 404
    assert client.post("/", headers={"Host": "blog.localhost:5000"}).status_code == 405


def test_a_deployment_without_its_manifest_is_not_served(app, client, site):
    _, (first, _) = site
    make_storage(app.config).delete(first)  # the manifest goes first, then the files
    response = get(client, "/")
    assert response.status_code == 404
    assert "No deployment is live" in response.text


RULES_SITE = {
    "index.html": "home",
    "app.html": "app shell",
    "blog/hello.html": "hello post",
    "legacy.html": "the legacy page still exists",
    "404.html": "lost",
    "_redirects": "\n".join(
        [
            "# comments and blank lines are fine",
            "",
            "/old            /new                 302",
            "/docs/*         /guide/:splat",
            "/posts/:year/:slug  /blog/:slug      301",
            "/app/*          /app.html            200",
            "/gone           /404.html            404",
            "/legacy.html    /index.html          301!",
            "/ext            https://example.com/x 308",
        ]
    ),
    "_headers": (
        "/*\n  X-Frame-Options: DENY\n"
        "/blog/*\n  Cache-Control: public, max-age=600\n  X-Robots-Tag: noindex\n"
    ),
}


@pytest.fixture
def rules_site(app, tmp_path):
    project = Project(name="Rules", slug="rules", repo_url="/r", branch="main")
    project.live_deployment_id = publish(app, project, RULES_SITE, tmp_path)
    db.session.commit()
    return project


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [
        ("/old", 302, "/new"),
        ("/old/", 302, "/new"),
        ("/docs/a/b", 301, "/guide/a/b"),
        ("/posts/2026/hello", 301, "/blog/hello"),
        ("/legacy.html", 301, "/index.html"),  # forced: wins over the existing file
        ("/ext", 308, "https://example.com/x"),
    ],
)
def test_redirect_rules(client, rules_site, path, status, location):
    response = get(client, path, host="rules.localhost:5000")
    assert (response.status_code, response.headers["Location"]) == (status, location)


def test_rewrites_not_found_rules_and_shadowing(client, rules_site):
    rewrite = get(client, "/app/settings/profile", host="rules.localhost:5000")
    assert (rewrite.status_code, rewrite.text) == (200, "app shell")
    gone = get(client, "/gone", host="rules.localhost:5000")
    assert (gone.status_code, gone.text) == (404, "lost")
    assert get(client, "/blog/hello", host="rules.localhost:5000").text == "hello post"
    # Without "!", an existing file shadows a rule: /legacy serves legacy.html.
    assert (
        get(client, "/legacy", host="rules.localhost:5000").text == "the legacy page still exists"
    )
    # The rules files themselves are configuration, not content.
    assert get(client, "/_redirects", host="rules.localhost:5000").status_code == 404


def test_headers_rules_apply_by_path(client, rules_site):
    home = get(client, "/", host="rules.localhost:5000")
    assert home.headers["X-Frame-Options"] == "DENY"
    assert "X-Robots-Tag" not in home.headers
    post = get(client, "/blog/hello", host="rules.localhost:5000")
    assert post.headers["Cache-Control"] == "public, max-age=600"
    assert post.headers["X-Robots-Tag"] == "noindex"


def test_spa_fallback_serves_index_for_unknown_paths(client, rules_site):
    assert get(client, "/settings/x", host="rules.localhost:5000").status_code == 404
    rules_site.spa_fallback = True
    db.session.commit()
    fallback = get(client, "/settings/x", host="rules.localhost:5000")
    assert (fallback.status_code, fallback.text) == (200, "home")


def test_switching_live_never_mixes_two_deployments(app, client, site):
    """Readers racing a run of promotes each see one complete deployment, never a gap."""
    project, (first, second) = site
    bodies = {"<h1>one</h1>", "<h1>two</h1>"}
    failures: list[str] = []
    stop = threading.Event()

    def read():
        with app.test_client() as reader:
            while not stop.is_set():
                response = get(reader, "/")
                if response.status_code != 200 or response.text not in bodies:
                    failures.append(f"{response.status_code} {response.text[:40]}")

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for turn in range(40):
            project.live_deployment_id = second if turn % 2 == 0 else first
            db.session.commit()
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert failures == []
