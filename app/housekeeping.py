"""What every consumer does every few seconds besides building: reap and dispatch.

A thread of its own rather than a Huey periodic task: those run at most once a
minute and wait behind builds for a free worker, and a dead worker's builds
should be marked within seconds, not minutes. Several consumers doing it at
once is harmless; every change it makes is a conditional update.
"""

import logging
import threading

from app.pipeline import dispatch, reaper

log = logging.getLogger("slipway.housekeeping")
CONTAINER_SWEEP_EVERY = 6  # ticks: the Docker sweep asks the daemon, so once a minute


class Housekeeping(threading.Thread):
    def __init__(self, app, enqueue, interval: float):
        super().__init__(daemon=True, name="housekeeping")
        self.app = app
        self.enqueue = enqueue
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        tick = 0
        while not self.stopped.wait(self.interval):
            tick += 1
            try:
                self.once(sweep_containers=tick % CONTAINER_SWEEP_EVERY == 0)
            except Exception:  # the database or broker is away: try again next tick
                log.exception("housekeeping failed; retrying in %ss", self.interval)

    def once(self, sweep_containers: bool = False) -> None:
        with self.app.app_context():
            lost = reaper.reap_stale()
            if lost:
                log.info("marked deployments whose worker went silent as worker_lost: %s", lost)
            dispatch.dispatch_stranded(self.enqueue)
            if sweep_containers:
                reaper.reap_containers()

    def stop(self) -> None:
        self.stopped.set()
