"""A secret through a real build on every stack, then looked for everywhere it must not be."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
import redis

from tests.sites import script_site
from tests.sse import read_events

pytestmark = pytest.mark.e2e

SENTINEL = "sentinel/9f3c+71ab=e5d2"

# Prints the secret every way a build might: plainly, base64 (alone and inside a
# longer value), URL-encoded, on stderr, and split across two writes 300 ms apart.
BUILD_JS = r"""
const fs = require("fs");
const crypto = require("crypto");
const s = process.env.SENTINEL;
console.log("plain: " + s);
console.log("base64: " + Buffer.from(s).toString("base64"));
console.log("inside base64: " + Buffer.from("xy:" + s + ":tail").toString("base64"));
console.log("url: " + encodeURIComponent(s));
console.error("stderr: " + s);
process.stdout.write("split: " + s.slice(0, 9));
setTimeout(() => {
  process.stdout.write(s.slice(9) + " end\n");
  fs.mkdirSync("dist", { recursive: true });
  fs.writeFileSync("dist/index.html", "<h1>ok</h1>");
  fs.writeFileSync("dist/proof.txt", crypto.createHash("sha256").update(s).digest("hex"));
}, 300);
"""


def forms_of(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), value.replace("/", "%2F")]


def test_a_secret_reaches_the_build_and_nothing_else(stack, make_repo):
    repo = make_repo(script_site("node build.js", **{"build.js": BUILD_JS}))
    project = stack.create_project(repo)
    saved = stack.api(
        "PUT",
        f"/projects/{project['id']}/variables",
        json={"name": "SENTINEL", "value": SENTINEL, "secret": True},
    )
    assert saved.status_code == 200 and saved.json()["value"] is None
    done = stack.wait(stack.deploy(project["id"])["deployment_id"])
    assert done["status"] == "deployed", stack.log_text(done["id"])

    # The build had it: the site holds the hash of the value it saw.
    proof = stack.site(project["slug"], "/proof.txt").text
    assert proof == hashlib.sha256(SENTINEL.encode()).hexdigest()

    log = stack.log_text(done["id"])
    for line in ("plain: ***", "base64: ***", "url: ***", "stderr: ***", "split: *** end"):
        assert line in log, line
    inside = next(line for line in log.splitlines() if line.startswith("inside base64: "))
    assert "***" in inside  # the value's own characters, wherever it sits in the encoding
    assert "Environment (production): SENTINEL" in log

    seen = [log, json.dumps(stack.log_lines(done["id"])), _sse_text(stack, done["id"])]
    seen += _redis_text(stack) + _files_text(stack.base / "data") + _s3_text(stack)
    seen.append(json.dumps(stack.deployment(done["id"])))
    for text in seen:
        for form in forms_of(SENTINEL):
            assert form not in text


def _sse_text(stack, deployment_id: int) -> str:
    response = stack.http.get(
        f"{stack.base_url}/api/v1/deployments/{deployment_id}/events", stream=True, timeout=30
    )
    return json.dumps([event.data for event in read_events(response)])


def _redis_text(stack) -> list[str]:
    url = stack.env.get("REDIS_URL")
    if not url:
        return []
    client = redis.Redis.from_url(url)
    texts = []
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"stream":
            texts.append(repr(client.xrange(key)))
        elif kind == b"string":
            texts.append(repr(client.get(key)))
        elif kind == b"list":
            texts.append(repr(client.lrange(key, 0, -1)))
        elif kind == b"zset":
            texts.append(repr(client.zrange(key, 0, -1)))
        elif kind == b"hash":
            texts.append(repr(client.hgetall(key)))
    assert texts, "the Redis stack keeps log streams in Redis"
    return texts


def _files_text(root: Path) -> list[str]:
    """Every file Slipway wrote: database (and its WAL), queue, published sites, logs."""
    skip = {"cache", "builds"}  # package caches hold node_modules, not Slipway's data
    texts = []
    for path in root.rglob("*"):
        if path.is_file() and not skip & set(path.relative_to(root).parts):
            texts.append(path.read_bytes().decode("latin-1"))
    return texts


def _s3_text(stack) -> list[str]:
    url = stack.env.get("STORAGE_URL")
    if not url:
        return []
    from tests.s3 import BUCKET, Seaweed

    prefix = url.split("/", 3)[3].split("?")[0]
    endpoint = url.split("endpoint=")[1].split("&")[0]
    server = Seaweed.__new__(Seaweed)
    server.port = int(endpoint.rsplit(":", 1)[1])
    client = server.client()
    keys = server.keys(prefix)
    assert keys, "the S3 stack published there"
    return [
        client.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("latin-1") for key in keys
    ]
