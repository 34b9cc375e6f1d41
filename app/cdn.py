"""Purge a site's changed URLs from a CDN after it changes.

Two ways, chosen by CDN_PURGE_URL: any URL (a small hook of your own, or a
provider endpoint) that receives a JSON POST, or "cloudflare" for Cloudflare's
purge API. Failures raise PurgeError; callers log them and retry.
"""

import requests

from app.storage.manifest import Manifest, diff

CLOUDFLARE_BATCH = 30  # URLs per purge call Cloudflare accepts
TIMEOUT = 10


class PurgeError(Exception):
    """The CDN did not confirm the purge; the message says what it answered."""


def changed_urls(base_url: str, old: Manifest | None, new: Manifest) -> list[str]:
    """The public URLs whose content differs between two deployments."""
    if old is None:
        return []  # nothing was live, so nothing stale can be cached
    base = base_url.rstrip("/")
    urls = set()
    for path in diff(old, new).paths:
        urls.add(f"{base}/{path}")
        if path == "index.html" or path.endswith("/index.html"):
            urls.add(f"{base}/{path[: -len('index.html')]}")
        elif path.endswith(".html"):
            urls.add(f"{base}/{path[: -len('.html')]}")
    return sorted(urls)


def purge(config, project, urls: list[str]) -> str | None:
    """Ask the CDN to drop `urls`; return what was done, or None with no CDN configured."""
    target = config.get("CDN_PURGE_URL")
    if not target or not urls:
        return None
    if target == "cloudflare":
        return _cloudflare(config, urls)
    hook = target.format(slug=project.slug, project_id=project.id)
    body = {"project": project.slug, "urls": urls}
    _post(hook, body, config.get("CDN_PURGE_TOKEN"))
    return f"purged {len(urls)} URLs through the purge hook"


def _cloudflare(config, urls: list[str]) -> str:
    zone = config.get("CLOUDFLARE_ZONE_ID")
    if not zone or not config.get("CDN_PURGE_TOKEN"):
        raise PurgeError("Set CLOUDFLARE_ZONE_ID and CDN_PURGE_TOKEN to purge through Cloudflare.")
    endpoint = f"{config['CLOUDFLARE_API_URL'].rstrip('/')}/zones/{zone}/purge_cache"
    for start in range(0, len(urls), CLOUDFLARE_BATCH):
        answer = _post(
            endpoint, {"files": urls[start : start + CLOUDFLARE_BATCH]}, config["CDN_PURGE_TOKEN"]
        )
        if not answer.get("success"):
            raise PurgeError(f"Cloudflare refused the purge: {answer.get('errors')}")
    return f"purged {len(urls)} URLs through Cloudflare"


def _post(url: str, body: dict, token: str | None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.post(url, json=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise PurgeError(f"the purge endpoint could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 300:
        raise PurgeError(f"the purge endpoint answered {response.status_code}")
    try:
        return response.json()
    except ValueError:
        return {}
