"""The upload step: manifest, upload, and the review that decides whether it goes live."""

import time

from app import site_rules
from app.extensions import db
from app.models import Deployment, Project
from app.pipeline.errors import Cancelled, StepFailed
from app.storage import PublishCancelled, StorageError, build_manifest
from app.storage.manifest import Manifest, diff


def publish(build, output) -> None:
    """Upload the output under the deployment's own prefix; decide if it may go live."""
    try:
        manifest = build_manifest(build.deployment_id, output)
    except site_rules.RuleError as exc:
        raise StepFailed("invalid_rules", f"{exc} Fix the file and deploy again.") from exc
    _log_rules(build, manifest)
    build.log.system(
        f"Uploading {len(manifest.files)} files ({manifest.total_bytes / 1024:.1f} KiB) "
        f"to {build.storage.describe()}"
    )
    started = time.monotonic()
    try:
        build.storage.publish(manifest, output, cancel=build.cancel)
    except PublishCancelled as exc:
        raise Cancelled() from exc
    except StorageError as exc:
        raise StepFailed(
            "upload_failed",
            f"{exc} Nothing of this deployment was published and the live site is "
            "unchanged; deploy again once the storage is reachable.",
        ) from exc
    variants = sum(1 for entry in manifest.files.values() if entry.gzip_size)
    build.log.system(
        f"Uploaded in {time.monotonic() - started:.1f}s ({variants} gzip variants); "
        "manifest written last"
    )
    build.go_live, build.held_reason = review(build, manifest)


def _log_rules(build, manifest: Manifest) -> None:
    if manifest.redirects:
        build.log.system(f"_redirects: {len(manifest.redirects)} rules")
    if manifest.headers:
        build.log.system(f"_headers: {len(manifest.headers)} rules")


def review(build, manifest: Manifest) -> tuple[bool, str | None]:
    """Compare with the live deployment; return (goes live, why it is held back)."""
    project = db.session.get(Project, build.project.id)
    db.session.refresh(project)
    if build.branch != project.branch:
        build.log.system(f"Preview of branch {build.branch}: the live site stays as it is")
        return False, None
    live = (
        build.storage.manifest(project.live_deployment_id) if project.live_deployment_id else None
    )
    if live is None:
        return True, None
    change = diff(live, manifest)
    db.session.query(Deployment).filter_by(id=build.deployment_id).update(
        {"diff": change.summary()}
    )
    db.session.commit()
    build.log.system(
        f"Compared with live #{project.live_deployment_id}: {len(change.added)} added, "
        f"{len(change.removed)} removed, {len(change.changed)} changed, "
        f"{change.unchanged} unchanged; {change.bytes_before / 1024:.1f} KiB → "
        f"{change.bytes_after / 1024:.1f} KiB"
    )
    reason = risk(live, manifest, len(change.removed), build.config["GUARD_REMOVED_PERCENT"])
    if reason and project.hold_risky_deploys:
        build.log.system(f"Held back: {reason}")
        return False, reason
    return True, None


def risk(live: Manifest, new: Manifest, removed: int, limit_percent: int) -> str | None:
    """Why publishing `new` over `live` looks like a broken build, if it does."""
    if "index.html" in live.files and "index.html" not in new.files:
        return "it has no index.html, which the live site has."
    if live.files and removed * 100 > limit_percent * len(live.files):
        share = round(removed * 100 / len(live.files))
        return (
            f"it removes {share}% of the live site's files ({removed} of {len(live.files)}; "
            f"the limit is {limit_percent}%)."
        )
    return None
