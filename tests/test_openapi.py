"""The API against its OpenAPI document: schemathesis on a live server, bounded and seeded."""

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.sites import script_site
from tests.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    """A stack of its own (the fuzzer creates and deletes freely) with a project in it."""
    from tests.conftest import GitRepo

    base = tmp_path_factory.mktemp("openapi")
    (base / "repo").mkdir()
    repo = GitRepo(base / "repo")
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(script_site("mkdir -p dist && echo ok > dist/index.html"))
    stack = Stack(base / "stack").start()
    try:
        project = stack.create_project(repo)
        stack.wait(stack.deploy(project["id"])["deployment_id"])
        yield stack
    finally:
        stack.stop()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15


def operations(base_url: str) -> list:
    loaded = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    found = [result.ok() for result in loaded.get_all_operations()]
    # The event stream of a running deployment never ends, by design.
    return [op for op in found if not op.path.endswith("/events")]


def test_the_api_matches_its_document_and_never_fails(fuzzed):
    """Every operation, 15 generated cases each, the same cases every run."""
    headers = {"Authorization": f"Bearer {fuzzed.token}"}
    base_url = f"{fuzzed.base_url}/api/v1"
    checked = []
    for operation in operations(fuzzed.base_url):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        run()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) == 23, checked


def test_the_document_is_public_and_names_every_route(fuzzed, tmp_path):
    document = requests.get(f"{fuzzed.base_url}/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.0")
    from app import create_app
    from tests.conftest import make_config

    app = create_app(make_config(tmp_path))
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi"
    }
    assert routes == set(document["paths"])
