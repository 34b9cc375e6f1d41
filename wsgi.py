"""WSGI entry point: `gunicorn -k gevent wsgi:app`."""

from gevent import monkey

# Before anything else imports socket, ssl or threading: the log streams rely
# on cooperative sockets and sleeps to hold many viewers on one worker.
monkey.patch_all()

from app import create_app  # noqa: E402

app = create_app()
