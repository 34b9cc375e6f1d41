"""The pipeline: clone, detect, install, build, verify, upload, go live."""

import shutil
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app import repos, statuses, variables
from app.extensions import db
from app.logs import LogWriter, connect_redis
from app.models import Deployment, Project, Status
from app.pipeline import caching, git, publishing, retention, state
from app.pipeline.commands import run_step_command
from app.pipeline.detect import BuildPlan, detect, find_output
from app.pipeline.errors import Cancelled, StepFailed
from app.pipeline.verify import verify_output
from app.pipeline.watch import SHUTDOWN, Watch
from app.runners import Workspace, make_runner, runner_kind
from app.secrets import Masker, SecretsKeyError
from app.sites import live_url, site_url
from app.storage import make_storage

HEADERS = {
    "clone": "CLONING",
    "install": "INSTALLING",
    "build": "BUILDING",
    "verify": "VERIFYING",
    "upload": "UPLOADING",
}


class Build:
    """What one run of the pipeline carries from step to step."""

    def __init__(self, deployment: Deployment, config):
        self.deployment_id = deployment.id
        self.project = deployment.project
        self.sha = deployment.commit_sha
        self.branch = deployment.branch
        self.config = config
        self.runner = None  # chosen once the Node.js version is known
        self.storage = make_storage(config)
        self.log = LogWriter(deployment.id, redis=connect_redis(config["REDIS_URL"]))
        self.cancel = threading.Event()
        self.workdir = Path(config["BUILDS_DIR"]) / config["WORKER_ID"] / str(deployment.id)
        self.checkout = self.workdir / "src"
        # Package-manager caches, one per runner kind: files the local runner
        # writes as this user would be unwritable for the container's user.
        self.cache = Path(config["CACHE_DIR"]) / runner_kind(config)
        self.durations: dict[str, float] = {}
        self.status = Status.CLONING  # claim() moved it here
        self.cache_outcome: str | None = None  # "hit" or "miss" once install ran
        self.go_live = False  # decided by the upload step's review
        self.variables: dict[str, str] = {}  # the project's, read when the pipeline starts
        self.git_auth = None  # credentials for the clone, when the repository needs them
        self.held_reason: str | None = None

    def output_line(self, stream: str, text: str) -> None:
        self.log.write(stream, text)


def run_deployment(deployment_id: int) -> state.Claim:
    """Build and publish one deployment, leaving it in a terminal status.

    Returns Claim.WAIT, without doing anything, when a concurrency limit
    keeps the deployment queued for now; the caller tries again later.
    """
    config = current_app.config
    claimed = state.claim(
        deployment_id,
        config["WORKER_ID"],
        config["PROJECT_CONCURRENCY"],
        config["MAX_CONCURRENT_BUILDS"],
    )
    if claimed is not state.Claim.TAKEN:
        return claimed
    build = Build(db.session.get(Deployment, deployment_id), config)
    watch = Watch(deployment_id, build.cancel, config["HEARTBEAT_INTERVAL"])
    outcome = _run_guarded(build)
    watch.stop()
    shutil.rmtree(build.workdir, ignore_errors=True)
    _finish(build, *outcome)
    return claimed


def _run_guarded(build: Build) -> tuple[Status, str | None, str | None]:
    try:
        _pipeline(build)
        return Status.DEPLOYED, None, None
    except Cancelled:
        if SHUTDOWN.is_set():
            return (
                Status.FAILED,
                "worker_stopped",
                ("The worker was stopped during the build. Deploy again."),
            )
        newer = db.session.scalar(
            select(Deployment.superseded_by).where(Deployment.id == build.deployment_id)
        )
        if newer:
            return Status.CANCELLED, "superseded", f"Superseded by deployment #{newer}."
        return Status.CANCELLED, "cancelled", "Cancelled by a user."
    except StepFailed as exc:
        return Status.FAILED, exc.code, exc.message
    except Exception:
        build.log.system("Internal error:\n" + traceback.format_exc())
        current_app.logger.exception("deployment %s crashed", build.deployment_id)
        message = "Slipway hit an internal error; the log has details."
        return Status.FAILED, "internal_error", message


def _finish(build: Build, status: Status, code: str | None, message: str | None) -> None:
    deployed = status is Status.DEPLOYED
    previous_live = db.session.get(Project, build.project.id).live_deployment_id
    live = build.project.id if deployed and build.go_live else None
    if deployed and build.held_reason:
        _save(build, held_reason=build.held_reason)
    message = build.log.mask(message) if message else message
    changed = state.finish(build.deployment_id, status, code, message, live_project_id=live)
    if deployed and not changed:
        build.storage.delete(build.deployment_id)  # someone ended it first; publish nothing
    if changed:
        if message:
            build.log.system(f"Error: {message}" if status is Status.FAILED else message)
        else:
            build.log.system(
                f"Deployed: {len(build.durations)} steps in {sum(build.durations.values()):.1f}s"
            )
        if deployed:
            _after_deploy(build, previous_live)
        statuses.report(db.session.get(Deployment, build.deployment_id), status, build.log)
        build.log.status(status, None, code)
    build.log.close(expire_after=build.config["LOG_STREAM_TTL"])


def _after_deploy(build: Build, previous_live: int | None) -> None:
    """Alias record and CDN purge when it went live, then retention; logged, never fatal."""
    from app.promotion import sync_live_site
    from app.tasks import sync_live_site_task

    db.session.expire_all()
    project = db.session.get(Project, build.project.id)
    if project.live_deployment_id == build.deployment_id:
        build.log.system(f"Live at {live_url(project)}")
        try:
            for line in sync_live_site(project.id, previous_live):
                build.log.system(line)
        except Exception as exc:  # storage or CDN trouble: the site is live regardless
            build.log.system(f"Going live: {exc} Retrying in the background.")
            sync_live_site_task(project.id, previous_live)
    else:
        build.log.system(f"Preview at {site_url(project.slug, build.deployment_id)}")
    try:
        pruned = retention.prune_project(project)
    except Exception as exc:
        build.log.system(f"Retention: {exc} The next hourly sweep tries again.")
        return
    if pruned:
        ids = ", ".join(f"#{i}" for i in pruned)
        build.log.system(f"Retention: deleted the files of {ids}, past the last kept deployments")


def _pipeline(build: Build) -> None:
    _load_secrets(build)
    statuses.report(db.session.get(Deployment, build.deployment_id), Status.CLONING, build.log)
    _header(build)
    with step(build, "clone"):
        git.clone(
            build.project.repo_url,
            build.sha,
            build.branch,
            build.checkout,
            timeout=build.config["CLONE_TIMEOUT"],
            on_line=build.output_line,
            cancel=build.cancel,
            auth=build.git_auth,
        )
        _record_commit(build)
    plan = detect(build.checkout, build.project)
    _record_plan(build, plan)
    _prepare_runner(build, plan)
    _advance(build, Status.BUILDING, "install")
    with step(build, "install"):
        from_cache = caching.install(build, plan)
    if build.cache_outcome:
        detected = dict(db.session.get(Deployment, build.deployment_id).detected or {})
        _save(build, detected={**detected, "cache": build.cache_outcome})
    with step(build, "build"):
        if plan.build_command:
            _build(build, plan, from_cache)
        else:
            build.log.system("No build script in package.json: publishing the files as they are.")
    with step(build, "verify"):
        output = find_output(plan.root, plan)
        count, size = verify_output(
            output, build.config["MAX_OUTPUT_FILES"], build.config["MAX_OUTPUT_BYTES"]
        )
        _record_output(build, output, count, size)
    _advance(build, Status.UPLOADING, "upload")
    with step(build, "upload"):
        publishing.publish(build, output)
        if build.cancel.is_set():
            build.storage.delete(build.deployment_id)
            raise Cancelled()


def _load_secrets(build: Build) -> None:
    """Variables for the build, credentials for the clone; mask every secret from here on."""
    production = build.branch == build.project.branch
    try:
        build.variables, _ = variables.build_environment(build.project.id, production)
        secrets = variables.all_secret_values(build.project.id)
        build.git_auth = repos.auth_for(build.project)
        webhook_secret = repos.webhook_secret(build.project)
    except SecretsKeyError as exc:
        raise StepFailed("secrets_unreadable", str(exc)) from exc
    extra = [build.git_auth.token] if build.git_auth else []
    build.log.mask = Masker(secrets + extra + ([webhook_secret] if webhook_secret else []))
    if build.variables:
        names = ", ".join(sorted(build.variables))
        kind = "production" if production else "preview"
        build.log.system(f"Environment ({kind}): {names}")


def _build(build: Build, plan: BuildPlan, from_cache: bool) -> None:
    try:
        run_step_command(build, plan, plan.build_command, "build")
    except StepFailed as exc:
        if not from_cache or exc.code != "build_failed":
            raise
        caching.reinstall_without_cache(build, plan)
        run_step_command(build, plan, plan.build_command, "build")


@contextmanager
def step(build: Build, name: str):
    """Log a header and the step's duration, and record it on the deployment."""
    if build.cancel.is_set():
        raise Cancelled()
    _save(build, step=name)
    build.log.status(build.status, name)  # cards show the step as it changes
    build.log.system(f"▶ {HEADERS[name]}")
    started = time.monotonic()
    ok = False
    try:
        yield
        ok = True
    finally:
        seconds = round(time.monotonic() - started, 2)
        build.durations[name] = seconds
        _save(build, step_durations=dict(build.durations))
        verb = "finished" if ok else "stopped"
        build.log.system(f"■ {HEADERS[name]} {verb} in {seconds:.1f}s")


def _header(build: Build) -> None:
    for line in (
        f"Slipway deployment #{build.deployment_id} of {build.project.name}",
        f"Worker: {build.config['WORKER_ID']}",
        f"Repository: {git.scrub(build.project.repo_url)}",
        f"Branch: {build.branch} at {build.sha}",
    ):
        build.log.system(line)


def _prepare_runner(build: Build, plan: BuildPlan) -> None:
    workspace = Workspace(
        deployment_id=build.deployment_id,
        instance_id=build.config["INSTANCE_ID"],
        worker_id=build.config["WORKER_ID"],
        checkout=build.checkout,
        cache=build.cache,
        node_version=plan.node_version,
    )
    build.runner = make_runner(build.config, workspace)
    for line in build.runner.describe():
        build.log.system(line)


def _advance(build: Build, status: Status, step_name: str) -> None:
    if build.cancel.is_set():
        raise Cancelled()
    state.advance(build.deployment_id, status, step_name)
    build.status = status


def _record_commit(build: Build) -> None:
    message, author = git.commit_info(build.checkout)
    _save(build, commit_message=message, commit_author=author)


def _record_plan(build: Build, plan: BuildPlan) -> None:
    for line in plan.describe():
        build.log.system(line)
    _save(
        build,
        detected={
            "package_manager": plan.package_manager,
            "lock_file": plan.lock_file,
            "node_version": plan.node_version,
            "install_command": plan.install_command,
            "build_command": plan.build_command,
            "output_dir": plan.output_dir,
        },
    )


def _record_output(build: Build, output: Path, count: int, size: int) -> None:
    rel = output.relative_to(build.checkout)
    build.log.system(f"Output: {rel}/ — {count} files, {size / 1024:.1f} KiB")
    detected = dict(db.session.get(Deployment, build.deployment_id).detected or {})
    detected["output_dir"] = str(rel)
    _save(build, file_count=count, total_bytes=size, detected=detected)


def _save(build: Build, **values) -> None:
    db.session.query(Deployment).filter_by(id=build.deployment_id).update(values)
    db.session.commit()
