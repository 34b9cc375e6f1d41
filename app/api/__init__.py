"""The JSON API: /api/v1. Errors are always {"error": "..."} with a fitting status."""

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from app.auth import is_api_request
from app.extensions import db
from app.projects import ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Answer API errors (routes that do not exist too) as JSON; pages keep HTML."""
    if not is_api_request():
        return exc
    message = exc.description if isinstance(exc.description, str) else exc.name
    response = jsonify(error=message)
    response.status_code = exc.code or 500
    return response


def json_body() -> dict:
    """Return the request's JSON object, or abort with 400/415 saying what is wrong."""
    from flask import abort

    if request.content_length and not request.is_json:
        abort(415, "Send the body as JSON with 'Content-Type: application/json'.")
    if not request.content_length:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "The request body must be a JSON object.")
    return data


def error(message: str, status: int, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


@bp.errorhandler(ValidationError)
def invalid_input(exc: ValidationError):
    """A request breaking a rule gets 422 with each field's message; nothing half-done stays."""
    db.session.rollback()
    return error(str(exc), 422, fields=exc.errors)


from app.api import access, deployments, openapi, projects  # noqa: E402,F401  (routes register on bp)
