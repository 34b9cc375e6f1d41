"""Failures of the parts Slipway depends on, answered in words instead of a traceback."""

from flask import current_app, url_for
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.auth import is_api_request
from app.extensions import db

DATABASE_DOWN = (
    "Slipway cannot reach its database right now. Nothing was changed; try again in a "
    "moment, and check the database server if this persists."
)


def init_app(app) -> None:
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeout, database_unavailable)
    app.register_error_handler(429, too_many_requests)


def database_unavailable(exc):
    current_app.logger.error("database unavailable: %s", exc.__class__.__name__)
    db.session.rollback()
    if is_api_request():
        return {"error": DATABASE_DOWN}, 503, {"Retry-After": "10"}
    # Straight from the Jinja environment: context processors (the current
    # user among them) would ask the database that just failed.
    page = current_app.jinja_env.get_template("errors/unavailable.html")
    return page.render(
        message=DATABASE_DOWN, stylesheet=url_for("static", filename="css/app.css")
    ), 503


def too_many_requests(exc):
    message = f"Too many attempts ({exc.description}); wait a minute and try again."
    if is_api_request():
        return {"error": message}, 429
    page = current_app.jinja_env.get_template("errors/unavailable.html")
    return page.render(message=message, stylesheet=url_for("static", filename="css/app.css")), 429
