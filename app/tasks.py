"""Huey tasks: thin wrappers that give the pipeline an app context."""

import functools

from huey import crontab

from app.pipeline import reaper
from app.pipeline.run import run_deployment
from app.queue import huey


@functools.cache
def flask_app():
    """The app the consumer's tasks run in, made once per process."""
    from app import create_app

    return create_app()


@huey.task()
def build_deployment(deployment_id: int) -> None:
    with flask_app().app_context():
        run_deployment(deployment_id)


@huey.periodic_task(crontab(minute="*"))
def reap_lost_builds() -> None:
    with flask_app().app_context():
        reaper.reap_stale()
