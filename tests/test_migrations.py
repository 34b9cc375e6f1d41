"""Migrations: they build exactly the models' schema, and go down and up again cleanly.

Runs on whichever database the suite runs on (SQLite, or PostgreSQL with
SLIPWAY_TEST_DATABASE=postgresql); `make test` and CI run both.
"""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app.extensions import db
from app.models import Project
from tests.conftest import running_app

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@pytest.fixture
def migrated(tmp_path):
    with running_app(tmp_path / "data") as app:
        yield app


def tables() -> set[str]:
    db.session.remove()
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory(MIGRATIONS)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_the_migrations_build_exactly_what_the_models_describe(migrated):
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert differences == [], "the models changed without a migration (flask db migrate)"
    assert tables() == set(db.metadata.tables)


def test_every_migration_goes_down_and_up_again(migrated):
    revisions = revisions_oldest_first()
    assert len(revisions) >= 5
    for revision in reversed(revisions[:-1]):  # one step at a time, down to the first
        downgrade(directory=MIGRATIONS, revision=revision)
    downgrade(directory=MIGRATIONS, revision="base")
    assert tables() == set()
    upgrade(directory=MIGRATIONS)
    assert tables() == set(db.metadata.tables)


def test_data_survives_the_latest_migration_going_down_and_up(migrated):
    db.session.add(Project(name="kept", slug="kept", repo_url="/srv/kept", branch="main"))
    db.session.commit()
    previous = revisions_oldest_first()[-2]
    downgrade(directory=MIGRATIONS, revision=previous)
    upgrade(directory=MIGRATIONS)
    db.session.remove()
    assert db.session.execute(text("SELECT name FROM project")).scalar() == "kept"
