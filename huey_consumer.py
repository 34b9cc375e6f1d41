"""Run a Slipway build consumer: `python huey_consumer.py`.

Both SIGINT (Ctrl-C) and SIGTERM stop it cleanly: running builds are stopped
and marked failed with a clear reason, then the consumer exits. Nothing keeps
running and nothing stays 'building'.
"""

import logging
import sys

from huey.consumer import Consumer

from app.housekeeping import Housekeeping
from app.pipeline import reaper
from app.pipeline.run import SHUTDOWN
from app.runners import RunnerUnavailable, docker_answers, runner_kind
from app.runners.local import bwrap_works
from app.secrets import SecretsKeyError
from app.tasks import build_deployment, flask_app, huey


class SlipwayConsumer(Consumer):
    def stop(self, graceful=False):
        # Builds can run for an hour: rather than wait, tell them to stop and
        # record why, then wait for that (a few seconds) before exiting.
        SHUTDOWN.set()
        super().stop(graceful=True)


def _describe_runner(config) -> str:
    try:
        kind = runner_kind(config)
    except RunnerUnavailable as exc:
        raise SystemExit(f"Cannot start the consumer: {exc}") from None
    if kind == "docker" and not docker_answers():
        raise SystemExit(
            "Cannot start the consumer: BUILD_RUNNER=docker, but no Docker daemon "
            "answers at DOCKER_HOST or the default socket. Start Docker, or use "
            "BUILD_RUNNER=auto to fall back to the local runner."
        )
    if kind == "docker":
        return f"docker (images {config['NODE_IMAGE']})"
    return "local, " + ("bubblewrap sandbox" if bwrap_works() else "no sandbox")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        app = flask_app()
    except SecretsKeyError as exc:
        sys.exit(f"Slipway's consumer cannot start: {exc}")
    log = logging.getLogger("slipway.consumer")
    with app.app_context():
        log.info(
            "worker %s, %d build slots, runner: %s",
            app.config["WORKER_ID"],
            app.config["WORKERS"],
            _describe_runner(app.config),
        )
        lost = reaper.reap_worker(app.config["WORKER_ID"])
        if lost:
            log.info("marked deployments left by an earlier run as worker_lost: %s", lost)
    housekeeping = Housekeeping(app, build_deployment, app.config["HOUSEKEEPING_INTERVAL"])
    housekeeping.start()
    consumer = SlipwayConsumer(
        huey,
        workers=app.config["WORKERS"],
        worker_type="thread",
        max_delay=0.5,
        check_worker_health=True,
    )
    consumer.run()
    housekeeping.stop()


if __name__ == "__main__":
    main()
