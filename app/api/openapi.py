"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json.

Kept beside the routes it describes; tests/test_openapi.py runs schemathesis
against a live server with it, so a route that answers outside this document
fails the suite.
"""

from flask import jsonify

from app.api import bp

ERROR_STATUSES = {
    "400": "The body is not a JSON object, or a parameter is malformed.",
    "401": "No token, or an invalid, expired or revoked one.",
    "403": "Your role on the project does not allow this.",
    "404": "No such resource, or one you may not see.",
    "409": "The resource is in a state that does not allow this.",
    "413": "The body is larger than 1 MiB.",
    "415": "The body is not JSON.",
    "422": "A field is invalid; `fields` names each one.",
    "429": "Too many deployments are waiting (see Retry-After).",
    "503": "The database cannot be reached.",
}


def _nullable(kind: str, **extra) -> dict:
    return {"type": kind, "nullable": True, **extra}


# What a project's owner may set (app/projects.py EDITABLE), as the API takes it.
PROJECT_SETTINGS = {
    "name": {"type": "string"},
    "repo_url": {"type": "string"},
    "branch": {"type": "string"},
    "root_dir": _nullable("string"),
    "install_command": _nullable("string"),
    "build_command": _nullable("string"),
    "output_dir": _nullable("string"),
    "node_version": _nullable("string"),
    "build_network": {"type": "boolean"},
    "spa_fallback": {"type": "boolean"},
    "hold_risky_deploys": {"type": "boolean"},
    "private_previews": {"type": "boolean"},
    "keep_deployments": _nullable("integer", minimum=1, maximum=1000),
    "public_url": _nullable("string"),
    "preview_branches": {"type": "string"},
    "supersede": {"type": "boolean"},
    "commit_statuses": {"type": "boolean"},
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "ProjectInput": {"type": "object", "properties": PROJECT_SETTINGS},
    "Project": {
        "type": "object",
        "required": ["id", "name", "slug", "repo_url", "branch", "url", "live_deployment_id"],
        "properties": {
            **PROJECT_SETTINGS,
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "keep_deployments": _nullable("integer"),
            "git_provider": _nullable("string"),
            "repo_full_name": _nullable("string"),
            "is_private": {"type": "boolean"},
            "live_deployment_id": _nullable("integer"),
            "url": _nullable("string"),
            "created_at": {"type": "string"},
        },
    },
    "Deployment": {
        "type": "object",
        "required": ["id", "project_id", "status", "branch", "commit_sha", "is_live"],
        "properties": {
            "id": {"type": "integer"},
            "project_id": {"type": "integer"},
            "status": {
                "type": "string",
                "enum": [
                    "queued",
                    "cloning",
                    "building",
                    "uploading",
                    "deployed",
                    "failed",
                    "cancelled",
                ],
            },
            "step": _nullable("string"),
            "error": _nullable("string"),
            "error_message": _nullable("string"),
            "branch": {"type": "string"},
            "commit_sha": {"type": "string"},
            "commit_message": _nullable("string"),
            "commit_author": _nullable("string"),
            "duration": _nullable("number"),
            "step_durations": {"type": "object"},
            "detected": {"type": "object"},
            "file_count": _nullable("integer"),
            "total_bytes": _nullable("integer"),
            "is_live": {"type": "boolean"},
            "diff": _nullable("object"),
            "held_reason": _nullable("string"),
            "queue_position": _nullable("integer"),
            "url": _nullable("string"),
            "live_url": _nullable("string"),
        },
    },
    "Variable": {
        "type": "object",
        "required": ["name", "value", "secret", "target"],
        "properties": {
            "name": {"type": "string"},
            "value": _nullable("string", description="null for secrets: write-only"),
            "secret": {"type": "boolean"},
            "target": {"type": "string", "enum": ["all", "production", "preview"]},
        },
    },
    "Token": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "project_id": _nullable("integer"),
            "expires_at": _nullable("string"),
            "last_used_at": _nullable("string"),
            "revoked_at": _nullable("string"),
            "token": {"type": "string", "description": "only in the answer that creates it"},
        },
    },
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _list_of(key: str, item: dict) -> dict:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": item}},
    }


def _op(summary: str, ok: str, schema: dict | None, errors: str, body: dict | None = None) -> dict:
    responses = {ok: {"description": summary}}
    if schema is not None:
        responses[ok]["content"] = _json(schema)
    for code in errors.split():
        responses[code] = {"description": ERROR_STATUSES[code], "content": _json(_ref("Error"))}
    operation = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": False, "content": _json(body)}
    return operation


def _int_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _str_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


COMMON = "401 503"
PROJECT = [_int_param("project_id")]
DEPLOYMENT = [_int_param("deployment_id")]
DEPLOY_ACCEPTED = {
    "type": "object",
    "required": ["deployment_id", "status", "commit_sha", "branch"],
    "properties": {
        "deployment_id": {"type": "integer"},
        "status": {"type": "string"},
        "commit_sha": {"type": "string"},
        "branch": {"type": "string"},
        "warning": _nullable("string"),
        "deployment": _ref("Deployment"),
    },
}
LOGS = {
    "type": "object",
    "required": ["lines", "last_seq", "status", "done"],
    "properties": {
        "lines": {"type": "array", "items": {"type": "object"}},
        "last_seq": {"type": "integer"},
        "status": {"type": "string"},
        "done": {"type": "boolean"},
    },
}
MEMBER = {
    "type": "object",
    "required": ["username", "role"],
    "properties": {"username": {"type": "string"}, "role": {"type": "string"}},
}


def _paths() -> dict:
    body_errors = f"{COMMON} 400 413 415 422"
    return {
        "/projects": {
            "get": _op(
                "List the projects you can see",
                "200",
                _list_of("projects", _ref("Project")),
                COMMON,
            ),
            "post": _op(
                "Create a project",
                "201",
                _ref("Project"),
                f"{body_errors} 403",
                _ref("ProjectInput"),
            ),
        },
        "/projects/{project_id}": {
            "parameters": PROJECT,
            "get": _op("Show a project", "200", _ref("Project"), f"{COMMON} 404"),
            "patch": _op(
                "Change settings (owner)",
                "200",
                _ref("Project"),
                f"{body_errors} 403 404",
                _ref("ProjectInput"),
            ),
            "delete": _op("Delete a project (owner)", "204", None, f"{COMMON} 403 404 409"),
        },
        "/projects/{project_id}/deploy": {
            "parameters": PROJECT,
            "post": _op(
                "Deploy the branch head (deployer)",
                "202",
                DEPLOY_ACCEPTED,
                f"{body_errors} 403 404 429",
                {"type": "object", "properties": {"branch": {"type": "string"}}},
            ),
        },
        "/projects/{project_id}/deployments": {
            "parameters": PROJECT,
            "get": _op(
                "List deployments, newest first",
                "200",
                _list_of("deployments", _ref("Deployment")),
                f"{COMMON} 404",
            ),
        },
        "/projects/{project_id}/cache": {
            "parameters": PROJECT,
            "get": _op("Show the build cache", "200", {"type": "object"}, f"{COMMON} 404"),
            "delete": _op(
                "Clear the build cache (owner)", "200", {"type": "object"}, f"{COMMON} 403 404"
            ),
        },
        "/projects/{project_id}/members": {
            "parameters": PROJECT,
            "get": _op("List members", "200", _list_of("members", MEMBER), f"{COMMON} 404"),
            "put": _op(
                "Add a member or change a role (owner)",
                "200",
                MEMBER,
                f"{body_errors} 403 404",
                MEMBER,
            ),
        },
        "/projects/{project_id}/members/{username}": {
            "parameters": [*PROJECT, _str_param("username")],
            "delete": _op("Remove a member (owner)", "204", None, f"{COMMON} 403 404 409"),
        },
        "/projects/{project_id}/variables": {
            "parameters": PROJECT,
            "get": _op(
                "List variables (owner)",
                "200",
                _list_of("variables", _ref("Variable")),
                f"{COMMON} 403 404",
            ),
            "put": _op(
                "Set a variable (owner)",
                "200",
                _ref("Variable"),
                f"{body_errors} 403 404",
                {
                    "type": "object",
                    "required": ["name", "value"],
                    "properties": {
                        "name": {"type": "string"},
                        "value": {"type": "string"},
                        "secret": {"type": "boolean"},
                        "target": {"type": "string", "enum": ["all", "production", "preview"]},
                    },
                },
            ),
        },
        "/projects/{project_id}/variables/{name}": {
            "parameters": [
                *PROJECT,
                _str_param("name"),
                {
                    "name": "target",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["all", "production", "preview"]},
                },
            ],
            "delete": _op("Delete a variable (owner)", "204", None, f"{COMMON} 400 403 404"),
        },
        "/projects/{project_id}/audit": {
            "parameters": PROJECT,
            "get": _op(
                "The project's activity",
                "200",
                _list_of("events", {"type": "object"}),
                f"{COMMON} 404",
            ),
        },
        "/deployments/{deployment_id}": {
            "parameters": DEPLOYMENT,
            "get": _op("Show a deployment", "200", _ref("Deployment"), f"{COMMON} 404"),
        },
        "/deployments/{deployment_id}/cancel": {
            "parameters": DEPLOYMENT,
            "post": _op("Cancel (deployer)", "200", _ref("Deployment"), f"{COMMON} 403 404 409"),
        },
        "/deployments/{deployment_id}/promote": {
            "parameters": DEPLOYMENT,
            "post": _op(
                "Make live, or roll back (deployer)",
                "200",
                _ref("Deployment"),
                f"{COMMON} 403 404 409",
            ),
        },
        "/deployments/{deployment_id}/logs": {
            "parameters": [
                *DEPLOYMENT,
                {
                    "name": "after",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            "get": _op("Stored log lines after a sequence number", "200", LOGS, f"{COMMON} 404"),
        },
        "/deployments/{deployment_id}/events": {
            "parameters": DEPLOYMENT,
            "get": {
                "summary": "The log as server-sent events; resumes from Last-Event-ID",
                "responses": {
                    "200": {
                        "description": "An event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "404": {"description": ERROR_STATUSES["404"], "content": _json(_ref("Error"))},
                },
            },
        },
        "/tokens": {
            "get": _op("Your API tokens", "200", _list_of("tokens", _ref("Token")), COMMON),
            "post": _op(
                "Create a token; its value is shown once",
                "201",
                _ref("Token"),
                f"{body_errors} 403 404",
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "expires_in_days": {"type": "integer"},
                        "project_id": {"type": "integer"},
                    },
                },
            ),
        },
        "/tokens/{token_id}": {
            "parameters": [_int_param("token_id")],
            "delete": _op("Revoke a token", "204", None, f"{COMMON} 404"),
        },
    }


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Slipway API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": _paths(),
    }


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI document (no token needed)."""
    return jsonify(document())
