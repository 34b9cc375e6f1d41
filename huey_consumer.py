"""Run a Slipway build consumer: `python huey_consumer.py`.

SIGTERM (a service manager's or Compose's stop) drains: the consumer starts no
new build, lets the running ones finish, then exits; waiting builds stay queued
for other consumers. SIGINT (Ctrl-C), or a second SIGTERM, stops now: running
builds are stopped and marked failed with a clear reason, then the consumer
exits. Either way nothing keeps running and nothing stays 'building'.
"""

import logging
import signal
import sys
import threading

from huey.consumer import Consumer

from app.housekeeping import Housekeeping
from app.pipeline import reaper
from app.pipeline.watch import DRAINING, SHUTDOWN
from app.runners import RunnerUnavailable, docker_answers, runner_kind
from app.runners.local import bwrap_works
from app.secrets import SecretsKeyError
from app.tasks import build_deployment, flask_app, huey


class SlipwayConsumer(Consumer):
    def stop(self, graceful=False):
        if graceful:
            self._drain()
        # Whatever still runs is told to stop and record why; that takes seconds.
        SHUTDOWN.set()
        super().stop(graceful=True)

    def _drain(self) -> None:
        """Take no new build and wait for the running ones, until a second signal."""
        DRAINING.set()
        self.stop_flag.set()
        stop_now = threading.Event()
        # Not huey's way (KeyboardInterrupt in a thread join): an interrupted
        # join leaves the thread looking finished, and the builds would be
        # abandoned instead of stopped.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop_now.set())
        self._logger.info(
            "Draining: running builds finish, no new build starts here. "
            "SIGTERM again or SIGINT stops them now."
        )
        while self._building() and not stop_now.wait(0.2):
            pass

    def _building(self) -> bool:
        return any(thread.is_alive() for _, thread in self.worker_threads)


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
        graceful_signal="TERM",
    )
    consumer.run()
    housekeeping.stop()


if __name__ == "__main__":
    main()
