"""Project environment variables: validated, secret ones encrypted, handed to builds only."""

import re

from flask import current_app
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.models import Project, Target, Variable
from app.projects import ValidationError
from app.secrets import decrypt, encrypt, secret_problem

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
# Set by Slipway or the runner; a project variable must not change them.
RESERVED = re.compile(r"^(SLIPWAY_.*|PATH|HOME|NODE_EXTRA_CA_CERTS)$")
MAX_VALUE = 32 * 1024
MAX_PER_PROJECT = 200


def fernet():
    return current_app.extensions["slipway_fernet"]


def set_variable(project: Project, data: dict) -> Variable:
    """Create or replace one variable from {name, value, secret?, target?}, and record it."""
    name, value, secret, target = _clean(data)
    existing = db.session.scalar(
        select(Variable).where(
            Variable.project_id == project.id, Variable.name == name, Variable.target == target
        )
    )
    variable = existing or Variable(project_id=project.id, name=name, target=target)
    if existing is None:
        _check_room(project)
    variable.is_secret = secret
    variable.value = encrypt(fernet(), value) if secret else value
    db.session.add(variable)
    detail = {"name": name, "target": target.value, "secret": secret}  # never the value
    audit.record(project, "variable_set", commit=False, **detail)
    db.session.commit()
    return variable


def delete_variable(project: Project, variable: Variable) -> None:
    db.session.delete(variable)
    audit.record(
        project, "variable_deleted", commit=False, name=variable.name, target=variable.target.value
    )
    db.session.commit()


def _clean(data: dict) -> tuple[str, str, bool, Target]:
    errors = {}
    name, value = data.get("name"), data.get("value")
    secret, target = data.get("secret", False), data.get("target", "all")
    if not isinstance(name, str) or not _NAME.match(name):
        errors["name"] = "Use letters, digits and _ (not starting with a digit), like API_URL."
    elif RESERVED.match(name):
        errors["name"] = f"{name} is set by Slipway for every build; choose another name."
    if not isinstance(value, str):
        errors["value"] = "Must be a string."
    elif len(value) > MAX_VALUE:
        errors["value"] = f"At most {MAX_VALUE // 1024} KiB."
    elif "\0" in value:
        errors["value"] = "NUL characters cannot be passed to a build."
    if not isinstance(secret, bool):
        errors["secret"] = "Must be true or false."
    elif secret and isinstance(value, str) and secret_problem(value):
        errors["value"] = secret_problem(value)
    if target not in {t.value for t in Target}:
        errors["target"] = "Use all, production or preview."
    if errors:
        raise ValidationError(errors)
    return name, value, secret, Target(target)


def _check_room(project: Project) -> None:
    count = db.session.query(Variable).filter_by(project_id=project.id).count()
    if count >= MAX_PER_PROJECT:
        raise ValidationError({"name": f"A project holds at most {MAX_PER_PROJECT} variables."})


def variables_of(project: Project) -> list[Variable]:
    return list(
        db.session.scalars(
            select(Variable)
            .where(Variable.project_id == project.id)
            .order_by(Variable.name, Variable.target)
        )
    )


def build_environment(project_id: int, production: bool) -> tuple[dict[str, str], list[str]]:
    """The variables a deploy gets, and the secret values among them (to mask).

    A variable for one environment wins over the same name for all of them.
    """
    wanted = Target.PRODUCTION if production else Target.PREVIEW
    rows = db.session.scalars(
        select(Variable).where(
            Variable.project_id == project_id, Variable.target.in_([Target.ALL, wanted])
        )
    ).all()
    env: dict[str, str] = {}
    secrets: list[str] = []
    for row in sorted(rows, key=lambda r: r.target == wanted):
        value = decrypt(fernet(), row.value) if row.is_secret else row.value
        env[row.name] = value
        if row.is_secret:
            secrets.append(value)
    return env, secrets


def all_secret_values(project_id: int) -> list[str]:
    """Every secret of the project, whichever deploys get it: all are masked in every log."""
    rows = db.session.scalars(
        select(Variable).where(Variable.project_id == project_id, Variable.is_secret)
    ).all()
    return [decrypt(fernet(), row.value) for row in rows]
