"""Docker for the tests: a daemon that answers, and the Node images built locally."""

import os

import pytest

TEST_NODE_IMAGE = os.environ.get("SLIPWAY_TEST_NODE_IMAGE", "slipway-node:{version}")
TEST_NODE_VERSIONS = ("18", "20")


def require_docker():
    """Return a client; skip without a daemon, or fail when CI=true."""
    from app.runners.docker import docker_client

    try:
        client = docker_client()
        client.ping()
        return client
    except Exception as exc:
        message = f"no Docker daemon answers ({exc.__class__.__name__}); .ci/run starts one."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def node_images():
    """The test images, built from packages (no registry) when missing."""
    from docker.errors import ImageNotFound

    from app.images import build_node_image, image_for

    client = require_docker()
    for major in TEST_NODE_VERSIONS:
        tag = image_for(TEST_NODE_IMAGE, major)
        try:
            client.images.get(tag)
        except ImageNotFound:
            build_node_image(client, major, tag, say=lambda _line: None)
    return TEST_NODE_IMAGE
