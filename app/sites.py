"""Serve published sites by host name: <slug>.<SITES_DOMAIN>, d<id>--<slug>.<SITES_DOMAIN>.

Every answer comes from one deployment's manifest: a path that is not in it
does not exist, so no spelling of a path can reach another deployment, and a
request resolves the live deployment once, so it never mixes two of them.
"""

import re
from dataclasses import dataclass

from flask import Response, current_app, g, redirect, request
from werkzeug.wsgi import wrap_file

from app import previews, site_rules
from app.extensions import db
from app.models import Deployment, Project, Status
from app.storage import StorageError, make_storage
from app.storage.manifest import Manifest

_LABEL = re.compile(r"^(?:d(?P<id>\d{1,12})--)?(?P<slug>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$")
_SLASH = object()  # the path names a directory: redirect to it with a trailing slash


@dataclass(frozen=True)
class SiteAddress:
    slug: str
    deployment_id: int | None


@dataclass(frozen=True)
class Site:
    deployment_id: int
    manifest: Manifest
    spa_fallback: bool


def parse_site_host(host: str, sites_domain: str) -> SiteAddress | None:
    """Read a site address out of a Host header, or None for the dashboard."""
    host, domain = host.lower(), sites_domain.lower()
    if ":" not in domain:
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    suffix = "." + domain
    if not host.endswith(suffix):
        return None
    match = _LABEL.match(host[: -len(suffix)])
    if not match:
        return None
    deployment_id = int(match["id"]) if match["id"] else None
    return SiteAddress(match["slug"], deployment_id)


def site_url(slug: str, deployment_id: int | None = None) -> str:
    label = f"d{deployment_id}--{slug}" if deployment_id else slug
    config = current_app.config
    return f"{config.get('SITES_SCHEME', 'http')}://{label}.{config['SITES_DOMAIN']}/"


def live_url(project: Project) -> str:
    """Where users reach the live site: the project's public (CDN) URL when it has one."""
    if project.public_url:
        return project.public_url.rstrip("/") + "/"
    return site_url(project.slug)


def serve_site_request():
    """Answer requests for a site host; let dashboard requests through."""
    address = parse_site_host(request.host, current_app.config["SITES_DOMAIN"])
    if address is None:
        return None
    g.site_request = True  # no dashboard headers, no login
    if request.path == previews.HANDOFF_PATH:
        return _handoff(address)
    try:
        site = _site_for(address)
    except StorageError as exc:
        current_app.logger.warning("site %s: %s", request.host, exc)
        return _plain(503, "This site's storage cannot be reached right now; try again shortly.")
    if site is None:
        return _plain(
            404,
            f"No deployment is live at this address ({request.host}). A private preview "
            "opens from the Slipway dashboard.",
        )
    if request.method not in ("GET", "HEAD"):
        return _plain(405, "Sites accept GET and HEAD only.")
    response = _answer(site, request.path)
    for name, value in _rule_headers(site.manifest, request.path).items():
        response.headers[name] = value  # the site's own rules win over Slipway's defaults
    return response


def _rule_headers(manifest: Manifest, path: str) -> dict[str, str]:
    """Headers from `_headers`; a name set by several matching blocks gets all values."""
    merged: dict[str, str] = {}
    for name, value in site_rules.headers_for(manifest.headers, path):
        key = next((k for k in merged if k.lower() == name.lower()), name)
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _site_for(address: SiteAddress) -> Site | None:
    project = db.session.query(Project).filter_by(slug=address.slug).first()
    if project is None:
        return None
    deployment_id = address.deployment_id or project.live_deployment_id
    if deployment_id is None:
        return None
    if address.deployment_id is not None:
        deployment = db.session.get(Deployment, deployment_id)
        if not deployment or deployment.project_id != project.id:
            return None
        if deployment.status != Status.DEPLOYED or deployment.pruned_at is not None:
            return None
        if not previews.allowed(project):
            return None  # the same answer as for no deployment at all
    manifest = make_storage(current_app.config).manifest(deployment_id)
    if manifest is None:
        return None  # not completely published: never serve part of a deployment
    return Site(deployment_id, manifest, bool(project.spa_fallback))


def _handoff(address: SiteAddress):
    project = db.session.query(Project).filter_by(slug=address.slug).first()
    accepted = previews.accept_handoff(project) if project and address.deployment_id else None
    return accepted or _plain(404, "This link has expired; open the preview from the dashboard.")


def _answer(site: Site, path: str) -> Response:
    if not _is_clean(path):
        return _not_found(site)
    forced = site_rules.find_redirect(site.manifest.redirects, path, forced_only=True)
    if forced:
        return _apply_rule(site, forced)
    found = _lookup(site.manifest, path)
    if found is _SLASH:
        return _redirect(path + "/", 301)  # relative links in the page need the slash
    if found:
        return _file(site, found)
    rule = site_rules.find_redirect(site.manifest.redirects, path)
    if rule:
        return _apply_rule(site, rule)
    if site.spa_fallback and "index.html" in site.manifest.files:
        return _file(site, "index.html")
    return _not_found(site)


def _is_clean(path: str) -> bool:
    """Werkzeug has percent-decoded the path once; anything still dubious is refused."""
    if "\\" in path or "\x00" in path or re.search(r"%[0-9a-fA-F]{2}", path):
        return False  # still encoded after one decoding: double-encoded, never a real file
    return not any(segment in (".", "..") for segment in path.split("/"))


def _lookup(manifest: Manifest, path: str):
    relative = path.lstrip("/")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
        return relative if relative in manifest.files else None
    if relative in manifest.files:
        return relative
    if relative + "/index.html" in manifest.files:
        return _SLASH
    if relative + ".html" in manifest.files:
        return relative + ".html"
    return None


def _apply_rule(site: Site, found: site_rules.Match) -> Response:
    target = site_rules.destination(found)
    status = found.rule["status"]
    if 300 <= status < 400:
        return _redirect(target, status)
    relative = _lookup(site.manifest, target.split("?", 1)[0]) if _is_clean(target) else None
    if not isinstance(relative, str):
        return _not_found(site)
    return _file(site, relative, status)


def _redirect(target: str, status: int) -> Response:
    if "?" not in target and request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=status)
    response.autocorrect_location_header = False
    return response


def _not_found(site: Site) -> Response:
    if "404.html" in site.manifest.files:
        return _file(site, "404.html", 404)
    return _plain(404, "Page not found.")


def _file(site: Site, relative: str, status: int = 200) -> Response:
    entry = site.manifest.files[relative]
    compressed = bool(
        entry.gzip_size and request.accept_encodings["gzip"] and request.range is None
    )
    store = make_storage(current_app.config)
    handle = store.open(site.deployment_id, relative, compressed=compressed)
    response = Response(
        wrap_file(request.environ, handle),
        status=status,
        content_type=entry.type,
        direct_passthrough=True,
    )
    length = entry.gzip_size if compressed else entry.size
    response.content_length = length
    response.headers["Cache-Control"] = entry.cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    if entry.gzip_size:
        response.vary.add("Accept-Encoding")
    if status == 200:
        response.set_etag(entry.sha256[:32] + ("-gz" if compressed else ""))
        response.make_conditional(request, accept_ranges=True, complete_length=length)
    return response


def _plain(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
