"""Publishing to storage: objects, manifest, immutability, retention, review, CDN purge."""

import gzip
import hashlib
import http.server
import json
import threading
from typing import ClassVar

import pytest

from app import cdn
from app.extensions import db
from app.models import Deployment, Project, Status
from app.pipeline import retention
from app.pipeline.publishing import risk
from app.projects import delete_project
from app.promotion import promote
from app.storage import build_manifest, make_storage
from app.storage.manifest import Manifest, cache_control, diff, is_fingerprinted
from tests.conftest import running_app
from tests.s3 import BUCKET

SCRIPT = "export const answer = 42;\n" * 100


@pytest.fixture
def app(tmp_path, storage_settings):
    with running_app(tmp_path / "data", **storage_settings) as app:
        yield app


def write_tree(root, files: dict[str, str]):
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return root


def new_deployment(project: Project) -> Deployment:
    deployment = Deployment(
        project=project, branch="main", commit_sha="c" * 40, status=Status.DEPLOYED
    )
    db.session.add(deployment)
    db.session.commit()
    return deployment


def publish(app, project, files, tmp_path) -> int:
    deployment = new_deployment(project)
    source = write_tree(tmp_path / f"out-{deployment.id}", files)
    make_storage(app.config).publish(build_manifest(deployment.id, source), source)
    return deployment.id


@pytest.fixture
def project(app):
    project = Project(name="Shop", slug="shop", repo_url="/r", branch="main")
    db.session.add(project)
    db.session.commit()
    return project


def test_the_manifest_lists_every_file_with_its_hash_type_and_caching(app, project, tmp_path):
    deployment_id = publish(
        app, project, {"index.html": "<p>hi</p>", "assets/main-Ab12Cd34.js": SCRIPT}, tmp_path
    )
    manifest = make_storage(app.config).manifest(deployment_id)
    page, script = manifest.files["index.html"], manifest.files["assets/main-Ab12Cd34.js"]
    assert (page.size, page.type, page.cache) == (9, "text/html; charset=utf-8", "no-cache")
    assert page.sha256 == hashlib.sha256(b"<p>hi</p>").hexdigest()
    assert script.cache == "public, max-age=31536000, immutable"
    assert 0 < script.gzip_size < script.size / 5
    assert page.gzip_size is None  # below the threshold


def test_s3_objects_carry_their_headers_and_gzip_encoding(tmp_path, seaweed):
    url = seaweed.url()
    with running_app(tmp_path / "data", STORAGE_URL=url) as app:
        project = Project(name="S", slug="s", repo_url="/r", branch="main")
        deployment_id = publish(
            app, project, {"index.html": "<p>hi</p>", "app.js": SCRIPT}, tmp_path
        )
    prefix = url.split("/", 3)[3].split("?")[0]
    client = seaweed.client()
    base = f"{prefix}/deployments/{deployment_id}/"
    page = client.head_object(Bucket=BUCKET, Key=base + "files/index.html")
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert page["CacheControl"] == "no-cache"
    packed = client.get_object(Bucket=BUCKET, Key=base + "gzip/app.js")
    assert packed["ContentEncoding"] == "gzip"
    assert packed["ContentType"] == "text/javascript; charset=utf-8"
    assert gzip.decompress(packed["Body"].read()).decode() == SCRIPT
    assert sorted(seaweed.keys(base)) == [
        base + "files/app.js",
        base + "files/index.html",
        base + "gzip/app.js",
        base + "manifest.json",
    ]


def test_publishing_never_touches_an_earlier_deployment(app, project, tmp_path):
    store = make_storage(app.config)
    first = publish(app, project, {"index.html": "one", "a.txt": "a"}, tmp_path)
    before = store.manifest(first)
    second = publish(app, project, {"index.html": "two"}, tmp_path)
    assert store.manifest(first) == before
    with store.open(first, "index.html") as handle:
        assert handle.read() == b"one"
    with store.open(second, "index.html") as handle:
        assert handle.read() == b"two"


def test_a_malformed_rules_file_stops_the_publish_before_any_upload(app, project, tmp_path):
    from app.site_rules import RuleError

    deployment = new_deployment(project)
    source = write_tree(tmp_path / "out", {"index.html": "x", "_redirects": "/a /b\n/c"})
    with pytest.raises(RuleError, match="_redirects line 2"):
        build_manifest(deployment.id, source)
    assert make_storage(app.config).manifest(deployment.id) is None


def test_the_alias_record_names_the_live_deployment_until_the_project_goes(app, project, tmp_path):
    store = make_storage(app.config)
    deployment_id = publish(app, project, {"index.html": "x"}, tmp_path)
    store.write_alias(project.slug, deployment_id)
    assert store.read_alias(project.slug) == {
        "deployment_id": deployment_id,
        "prefix": f"deployments/{deployment_id}/",
    }
    assert delete_project(project)
    assert store.read_alias("shop") is None and store.manifest(deployment_id) is None


def test_retention_keeps_the_newest_and_the_live_one(app, project, tmp_path):
    ids = [publish(app, project, {"index.html": str(n)}, tmp_path) for n in range(5)]
    project.live_deployment_id = ids[0]  # rolled back to the oldest
    project.keep_deployments = 2
    db.session.commit()

    assert retention.prune_project(project) == [ids[2], ids[1]]
    store = make_storage(app.config)
    kept = [i for i in ids if store.manifest(i) is not None]
    assert kept == [ids[0], ids[3], ids[4]]
    pruned = db.session.get(Deployment, ids[1])
    assert pruned.pruned_at is not None and pruned.status == Status.DEPLOYED
    assert "deleted to keep the project's last deployments" in promote(pruned)
    assert db.session.get(Project, project.id).live_deployment_id == ids[0]
    assert retention.prune_project(project) == []  # nothing more to do


def test_cache_control_rules():
    assert is_fingerprinted("assets/index-B3xYz12a.js")
    assert is_fingerprinted("static/js/main.3f2a1b9c.chunk.js")
    assert is_fingerprinted("_astro/client.Cq8dK3ns.js")
    assert is_fingerprinted("static/js/main.3f2a1b9c.js")
    assert not is_fingerprinted("components/navigation.js")
    assert not is_fingerprinted("about-company.css")
    assert not is_fingerprinted("team-directory.html")
    assert not is_fingerprinted("b3xyz12a.js")  # a hash-like name alone is not versioned
    assert cache_control("index.html", "text/html; charset=utf-8") == "no-cache"
    assert cache_control("logo.png", "image/png") == "public, max-age=0, must-revalidate"


def manifest_of(deployment_id: int, files: dict[str, str]) -> Manifest:
    from app.storage.manifest import Entry

    entries = {
        p: Entry(size=len(c), sha256=c, type="text/plain", cache="") for p, c in files.items()
    }
    return Manifest(deployment_id, entries)


def test_diff_and_the_guardrail():
    live = manifest_of(1, {"index.html": "a", "a.css": "b", "b.css": "c", "c.css": "d"})
    fine = manifest_of(2, {"index.html": "A", "a.css": "b", "b.css": "c", "new.js": "x"})
    change = diff(live, fine)
    assert (change.added, change.removed, change.changed, change.unchanged) == (
        ["new.js"],
        ["c.css"],
        ["index.html"],
        2,
    )
    assert risk(live, fine, len(change.removed), 50) is None
    no_index = manifest_of(3, {"a.css": "b", "b.css": "c", "c.css": "d"})
    assert "no index.html" in risk(live, no_index, 1, 50)
    gutted = manifest_of(4, {"index.html": "a"})
    assert risk(live, gutted, 3, 50) == (
        "it removes 75% of the live site's files (3 of 4; the limit is 50%)."
    )


def test_changed_urls_cover_pretty_and_directory_forms():
    old = manifest_of(
        1, {"index.html": "a", "docs/index.html": "b", "about.html": "c", "x.js": "d"}
    )
    new = manifest_of(2, {"index.html": "A", "docs/index.html": "b", "about.html": "C"})
    assert cdn.changed_urls("https://www.example.com/", old, new) == [
        "https://www.example.com/",
        "https://www.example.com/about",
        "https://www.example.com/about.html",
        "https://www.example.com/index.html",
        "https://www.example.com/x.js",
    ]
    assert cdn.changed_urls("https://www.example.com", None, new) == []


class PurgeRecorder(http.server.BaseHTTPRequestHandler):
    """A stand-in for a CDN's purge endpoint (or Cloudflare's API): records what it is sent."""

    received: ClassVar[list] = []
    answer: ClassVar[dict] = {"success": True}

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, self.headers.get("Authorization"), body))
        payload = json.dumps(self.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def purge_server():
    PurgeRecorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PurgeRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", PurgeRecorder.received
    server.shutdown()


def test_cloudflare_purge_is_batched_and_authorised(purge_server):
    base, received = purge_server
    config = {
        "CDN_PURGE_URL": "cloudflare",
        "CDN_PURGE_TOKEN": "cf-token-123456",
        "CLOUDFLARE_ZONE_ID": "zone42",
        "CLOUDFLARE_API_URL": base + "/client/v4",
    }
    urls = [f"https://www.example.com/p{n}" for n in range(45)]
    project = Project(id=7, slug="shop")
    assert cdn.purge(config, project, urls) == "purged 45 URLs through Cloudflare"
    assert [(path, auth, len(body["files"])) for path, auth, body in received] == [
        ("/client/v4/zones/zone42/purge_cache", "Bearer cf-token-123456", 30),
        ("/client/v4/zones/zone42/purge_cache", "Bearer cf-token-123456", 15),
    ]


def test_a_purge_hook_that_fails_raises_without_naming_its_url(purge_server):
    config = {"CDN_PURGE_URL": "http://127.0.0.1:1/purge?key=hook-secret-999"}
    with pytest.raises(cdn.PurgeError) as raised:
        cdn.purge(config, Project(id=1, slug="shop"), ["https://x.test/a"])
    assert "hook-secret-999" not in str(raised.value)
    assert "could not be reached" in str(raised.value)
