"""WSGI entry point: `gunicorn -k gevent wsgi:app`."""

from gevent import monkey

# Before anything else imports socket, ssl or threading: the log streams rely
# on cooperative sockets and sleeps to hold many viewers on one worker.
monkey.patch_all()

import sys  # noqa: E402

from app import create_app  # noqa: E402
from app.secrets import SecretsKeyError  # noqa: E402

try:
    app = create_app()
except SecretsKeyError as exc:  # a sentence, not a traceback, for the one setting people miss
    sys.exit(f"Slipway cannot start: {exc}")
