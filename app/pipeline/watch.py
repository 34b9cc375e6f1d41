"""A thread beside each build: beats the heartbeat and notices cancel requests."""

import threading

from sqlalchemy import select, update

from app.extensions import db
from app.models import Deployment
from app.models.user import utcnow

CANCEL_POLL = 0.5
# Set when the consumer is asked to stop now: every running build stops too.
SHUTDOWN = threading.Event()
# Set while the consumer drains: running builds finish, none starts here.
DRAINING = threading.Event()


class Watch:
    def __init__(self, deployment_id: int, cancel: threading.Event, heartbeat_interval: float):
        self.deployment_id = deployment_id
        self.cancel = cancel
        self.heartbeat_interval = heartbeat_interval
        self._engine = db.engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="build-watch")
        self._thread.start()

    def _run(self) -> None:
        since_beat = 0.0
        while not self._stop.wait(CANCEL_POLL):
            since_beat += CANCEL_POLL
            beat = since_beat >= self.heartbeat_interval
            if beat:
                since_beat = 0.0
            try:
                self._tick(beat)
            except Exception:  # a database hiccup must not kill the watch; retry next tick
                continue

    def _tick(self, beat: bool) -> None:
        with self._engine.begin() as conn:
            if beat:
                conn.execute(
                    update(Deployment)
                    .where(Deployment.id == self.deployment_id)
                    .values(heartbeat_at=utcnow())
                )
            requested = conn.execute(
                select(Deployment.cancel_requested).where(Deployment.id == self.deployment_id)
            ).scalar()
        if requested or SHUTDOWN.is_set():
            self.cancel.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
