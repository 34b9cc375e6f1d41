"""Every dashboard route about a project or deployment, against outsiders and viewers.

The routes come from the app's own URL map, so a page added later without an
access check fails here without anyone remembering to list it.
"""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, DeployHook, Deployment, Project, ProjectMember, Variable
from app.variables import set_variable
from app.webhooks import create_deploy_hook
from tests.test_access import world  # noqa: F401  (the fixture)


@pytest.fixture
def children(world):  # noqa: F811
    shop = world["shop"]
    variable = set_variable(shop, {"name": "API_URL", "value": "https://api.example.test"})
    create_deploy_hook(shop, "CMS")
    hook = db.session.scalar(select(DeployHook).where(DeployHook.project_id == shop.id))
    return {
        "project_id": shop.id,
        "deployment_id": world["deployed"].id,
        "variable_id": variable.id,
        "hook_id": hook.id,
        "username": "viewer",
    }


def project_routes(app) -> list[tuple[str, str]]:
    """(method, URL rule) of every dashboard route that names a project or deployment."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") or not {"project_id", "deployment_id"} & rule.arguments:
            continue
        routes += [(method, rule) for method in sorted(rule.methods & {"GET", "POST"})]
    return routes


def state() -> dict:
    """What any of these routes could change."""
    counts = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Project, Deployment, Variable, DeployHook, ProjectMember, AuditEvent)
    }
    shop = db.session.scalar(select(Project).where(Project.slug == "shop"))
    return counts | {"secret": shop.webhook_secret, "token": shop.git_token, "name": shop.name}


def call(client, world, caller, method, rule, children):  # noqa: F811
    url = rule.build(children, append_unknown=False)[1]
    headers = {"Authorization": f"Bearer {world['tokens'][caller]}"}
    response = client.open(url, method=method, headers=headers, data={"name": "x"})
    db.session.expire_all()
    return response


def test_the_route_list_is_the_whole_dashboard(app):
    assert len(project_routes(app)) >= 18


def test_outsiders_get_404_from_every_project_route_and_change_nothing(
    app,
    client,
    world,  # noqa: F811
    children,
):
    before = state()
    answers = {
        f"{method} {rule}": call(client, world, "outsider", method, rule, children)
        for method, rule in project_routes(app)
    }
    assert {name: r.status_code for name, r in answers.items() if r.status_code != 404} == {}
    assert not [name for name, r in answers.items() if "Shop" in r.text]  # not even its name
    assert state() == before


def test_viewers_may_look_but_every_change_is_refused(app, client, world, children):  # noqa: F811
    before = state()
    refused, shown = {}, {}
    for method, rule in project_routes(app):
        response = call(client, world, "viewer", method, rule, children)
        if method == "POST":
            refused[f"{method} {rule}"] = response.status_code
        elif rule.endpoint != "projects.settings":  # settings are for owners
            shown[f"{method} {rule}"] = response.status_code
    assert set(refused.values()) == {403}, refused
    assert set(shown.values()) <= {200, 302}, shown
    assert state() == before


def test_owners_reach_every_page(app, client, world, children):  # noqa: F811
    pages = {
        str(rule): call(client, world, "owner", "GET", rule, children).status_code
        for method, rule in project_routes(app)
        if method == "GET"
    }
    assert set(pages.values()) <= {200, 302}, pages
