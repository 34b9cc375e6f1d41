"""Huey tasks: thin wrappers that give the pipeline an app context."""

import functools

from huey import crontab

from app.pipeline import dispatch, retention
from app.pipeline.run import run_deployment
from app.pipeline.state import Claim
from app.pipeline.watch import DRAINING
from app.queue import huey


@functools.cache
def flask_app():
    """The app the consumer's tasks run in, made once per process."""
    from app import create_app

    return create_app()


# How soon a deployment held back by a concurrency limit is looked at again.
WAIT_RETRY_SECONDS = 2


@huey.task()
def build_deployment(deployment_id: int) -> None:
    with flask_app().app_context():
        dispatch.touch(deployment_id)  # this deployment has a live task
        if DRAINING.is_set():
            # This consumer is on its way out: leave the build to another one
            # (or to this one when it comes back) instead of starting it here.
            build_deployment.schedule((deployment_id,), delay=WAIT_RETRY_SECONDS)
        elif run_deployment(deployment_id) is Claim.WAIT:
            build_deployment.schedule((deployment_id,), delay=WAIT_RETRY_SECONDS)


@huey.task(retries=5, retry_delay=30)
def sync_live_site_task(project_id: int, previous_id: int | None) -> None:
    """After a promote: alias record and CDN purge, retried while the storage or CDN fails."""
    from app.promotion import sync_live_site

    with flask_app().app_context():
        try:
            for line in sync_live_site(project_id, previous_id):
                flask_app().logger.info("project %s: %s", project_id, line)
        except Exception as exc:
            flask_app().logger.warning("project %s: going live: %s (retrying)", project_id, exc)
            raise


@huey.periodic_task(crontab(minute="17"))
def apply_retention() -> None:
    with flask_app().app_context():
        retention.prune_all()
