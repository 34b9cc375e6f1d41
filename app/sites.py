"""Serve published sites by host name: <slug>.<SITES_DOMAIN>, d<id>--<slug>.<SITES_DOMAIN>."""

import mimetypes
import re
from dataclasses import dataclass

from flask import Response, current_app, redirect, request, send_file

from app.extensions import db
from app.models import Deployment, Project, Status
from app.storage import make_storage

_LABEL = re.compile(r"^(?:d(?P<id>\d{1,12})--)?(?P<slug>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)$")


@dataclass(frozen=True)
class SiteAddress:
    slug: str
    deployment_id: int | None


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


def serve_site_request():
    """Answer requests for a site host; let dashboard requests through."""
    address = parse_site_host(request.host, current_app.config["SITES_DOMAIN"])
    if address is None:
        return None
    deployment_id = _deployment_for(address)
    if deployment_id is None:
        return _plain(404, f"No deployment is live at this address ({request.host}).")
    if request.method not in ("GET", "HEAD"):
        return _plain(405, "Sites accept GET and HEAD only.")
    return _serve_path(deployment_id, request.path)


def _deployment_for(address: SiteAddress) -> int | None:
    project = db.session.query(Project).filter_by(slug=address.slug).first()
    if project is None:
        return None
    if address.deployment_id is None:
        return project.live_deployment_id
    deployment = db.session.get(Deployment, address.deployment_id)
    if deployment and deployment.project_id == project.id and deployment.status == Status.DEPLOYED:
        return deployment.id
    return None


def _serve_path(deployment_id: int, path: str):
    storage = make_storage(current_app.config)
    relative = path.lstrip("/")
    if relative == "" or relative.endswith("/"):
        relative += "index.html"
    found = storage.file(deployment_id, relative)
    if found is None and storage.file(deployment_id, relative + "/index.html"):
        return redirect(path + "/", code=301)  # relative links in the page need the slash
    if found is None:
        found = storage.file(deployment_id, relative + ".html")
    if found is None:
        return _not_found(storage, deployment_id)
    return _file_response(found)


def _not_found(storage, deployment_id: int):
    page = storage.file(deployment_id, "404.html")
    if page is None:
        return _plain(404, "Page not found.")
    response = _file_response(page)
    response.status_code = 404
    return response


def _file_response(path) -> Response:
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if mimetype == "text/html":
        response.headers["Cache-Control"] = "no-cache"
    return response


def _plain(status: int, message: str) -> Response:
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
