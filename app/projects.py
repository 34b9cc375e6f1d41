"""Create and change projects; the one place their input is validated."""

import re

from sqlalchemy import select

from app import audit
from app.extensions import db
from app.models import Project, ProjectMember, Role
from app.models.project import slugify

EDITABLE = (
    "name",
    "repo_url",
    "branch",
    "root_dir",
    "install_command",
    "build_command",
    "output_dir",
    "node_version",
    "build_network",
    "spa_fallback",
    "hold_risky_deploys",
    "keep_deployments",
    "public_url",
    "private_previews",
    "preview_branches",
    "supersede",
    "commit_statuses",
)
BOOLEAN = (
    "build_network",
    "spa_fallback",
    "hold_risky_deploys",
    "private_previews",
    "supersede",
    "commit_statuses",
)
INTEGER = {"keep_deployments": (1, 1000)}
KEEP_EMPTY = ("preview_branches",)  # "" means "no branch", not "the default"
_SCP_URL = re.compile(r"^[\w.-]+@[\w.-]+:[^\s]+$")
_URL_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://")
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!/)[\w./-]+(?<![./])$")
_NODE_VERSION = re.compile(r"^v?\d{1,2}(\.\d+){0,2}$")
_LIMITS = {
    "name": 100,
    "repo_url": 1000,
    "branch": 255,
    "root_dir": 255,
    "install_command": 1000,
    "build_command": 1000,
    "output_dir": 255,
    "node_version": 20,
    "public_url": 255,
    "preview_branches": 255,
}
_PUBLIC_URL = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?(/[\w./~-]*)?$", re.IGNORECASE)


class ValidationError(Exception):
    """Bad input; `errors` maps each field to a sentence saying how to fix it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def create_project(data: dict, owner=None) -> Project:
    """Validate `data` and store a new project, owned by `owner` when given."""
    values = clean(data, partial=False)
    slug = slugify(values["name"])
    if not slug:
        raise ValidationError({"name": "Use at least one letter or digit in the name."})
    if db.session.scalar(select(Project.id).where(Project.slug == slug)):
        raise ValidationError(
            {"name": f"A project with the address '{slug}' exists already; choose another name."}
        )
    project = Project(slug=slug, **values)
    db.session.add(project)
    if owner is not None:
        project.members.append(ProjectMember(user_id=owner.id, role=Role.OWNER))
    db.session.flush()
    audit.record(project, "project_created", commit=False, name=project.name)
    db.session.commit()
    return project


def update_project(project: Project, data: dict) -> Project:
    """Change the given fields; the slug (and so the site's address) stays."""
    values = clean(data, partial=True)
    changed = sorted(key for key, value in values.items() if getattr(project, key) != value)
    for key in changed:
        setattr(project, key, values[key])
    if changed:
        audit.record(project, "settings_changed", commit=False, fields=changed)
    db.session.commit()
    return project


def clean(data: dict, partial: bool) -> dict:
    """Return the known fields, stripped and checked; raise ValidationError."""
    unknown = set(data) - set(EDITABLE)
    errors = {key: "Unknown field." for key in sorted(unknown)}
    values = {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        if key in BOOLEAN:
            if isinstance(value, bool):
                values[key] = value
            else:
                errors[key] = "Must be true or false."
        elif key in INTEGER:
            number, message = _integer(value, *INTEGER[key])
            if message:
                errors[key] = message
            else:
                values[key] = number
        elif value is not None and not isinstance(value, str):
            errors[key] = "Must be a string."
        elif key in KEEP_EMPTY:
            values[key] = (value or "").strip()
        else:
            values[key] = (value or "").strip() or None
    if not partial:
        for key in ("name", "repo_url", "branch"):
            values.setdefault(key, None)
    for key, value in values.items():
        skip = key in errors or key in BOOLEAN or key in INTEGER
        message = None if skip else _check(key, value)
        if message:
            errors[key] = message
    if errors:
        raise ValidationError(errors)
    if "branch" in values and values["branch"] is None:
        values["branch"] = "main"
    return values


def _check(key: str, value: str | None) -> str | None:
    if value is None:
        return "This field is required." if key in ("name", "repo_url") else None
    if len(value) > _LIMITS[key]:
        return f"At most {_LIMITS[key]} characters."
    if any(ord(ch) < 32 for ch in value):
        return "Control characters are not allowed."
    return CHECKS.get(key, lambda _v: None)(value)


def check_repo_url(url: str) -> str | None:
    if url.startswith(_URL_SCHEMES) or _SCP_URL.match(url) or url.startswith(("/", "~/")):
        return None if " " not in url else "A Git URL has no spaces."
    return (
        "Use a URL git can clone: https://…, ssh://…, git@host:owner/repo.git, file://… "
        "or an absolute path on the Slipway host."
    )


def check_branch(branch: str) -> str | None:
    return None if _BRANCH.match(branch) else f"'{branch}' is not a valid branch name."


def _check_relative(path: str) -> str | None:
    if path.startswith("/") or ".." in path.split("/"):
        return "Use a path inside the repository, like 'site' or 'apps/web'."
    return None


def _integer(value, low: int, high: int) -> tuple[int | None, str | None]:
    """Accept a whole number (or its digits, from a form); empty means the default."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None, f"Use a whole number from {low} to {high}, or leave it empty for the default."
    return value, None


def _check_public_url(url: str) -> str | None:
    if _PUBLIC_URL.match(url):
        return None
    return "Use the site's address, like https://www.example.com (no user name or query)."


def _check_node(version: str) -> str | None:
    return None if _NODE_VERSION.match(version) else "Use a Node.js version like 20 or 20.11."


CHECKS = {
    "repo_url": check_repo_url,
    "branch": check_branch,
    "root_dir": _check_relative,
    "output_dir": _check_relative,
    "node_version": _check_node,
    "public_url": _check_public_url,
}


def delete_project(project: Project) -> bool:
    """Delete a project, its deployments and their files; False while a build runs."""
    from flask import current_app

    from app.deploys import is_building
    from app.storage import make_storage

    if is_building(project):
        return False
    deployment_ids = [d.id for d in project.deployments]
    project.live_deployment_id = None
    db.session.flush()
    db.session.delete(project)
    db.session.commit()
    storage = make_storage(current_app.config)
    storage.delete_alias(project.slug)
    for deployment_id in deployment_ids:
        storage.delete(deployment_id)
    return True
