"""Push notifications and deploy hooks, in-process: signatures, replays, branch rules."""

import hashlib
import hmac
import json

import pytest

from app.extensions import db
from app.models import DeployHook, Deployment, Project, ProjectMember, Role, User, WebhookDelivery
from app.webhooks import new_webhook_secret, signature_matches
from tests.sites import script_site
from tests.test_web import login, page_csrf

# GitHub's documented example: https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_documented_test_vector_verifies_and_one_byte_changes_it():
    headers = {"X-Hub-Signature-256": VECTOR_SIGNATURE}
    assert signature_matches("github", VECTOR_SECRET, VECTOR_BODY, headers)
    assert not signature_matches("github", VECTOR_SECRET, b"Hello, World?", headers)
    assert not signature_matches("github", VECTOR_SECRET + "!", VECTOR_BODY, headers)
    assert not signature_matches("github", VECTOR_SECRET, VECTOR_BODY, {})


@pytest.fixture
def project(app, make_repo):
    repo = make_repo(script_site("true"))
    project = Project(
        name="Shop",
        slug="shop",
        repo_url=str(repo.path),
        branch="main",
        repo_full_name="ada/shop",
        preview_branches="feature/*",
    )
    db.session.add(project)
    db.session.commit()
    project.secret = new_webhook_secret(project)
    project.sha = repo.head
    return project


def push_payload(project, ref="refs/heads/main", after=None, **extra) -> dict:
    return {
        "ref": ref,
        "after": after or project.sha,
        "deleted": False,
        "repository": {"full_name": "ada/shop", "clone_url": "https://github.com/ada/shop.git"},
        "head_commit": {"message": "Fix the header", "author": {"name": "Ada", "email": "a@x"}},
        **extra,
    }


def send(client, project, payload, provider="github", event="push", delivery="d-1", secret=None):
    body = json.dumps(payload).encode()
    digest = hmac.new((secret or project.secret).encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json"}
    if provider == "github":
        headers |= {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery}
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    elif provider == "gitea":
        headers |= {
            "X-Gitea-Event": event,
            "X-Gitea-Delivery": delivery,
            "X-Gitea-Signature": digest,
        }
    else:
        headers |= {"X-Gitlab-Event": event, "X-Gitlab-Event-UUID": delivery}
        headers["X-Gitlab-Token"] = secret or project.secret
    return client.post(f"/hooks/{provider}", data=body, headers=headers)


def deployments(project) -> list[Deployment]:
    return (
        db.session.query(Deployment).filter_by(project_id=project.id).order_by(Deployment.id).all()
    )


def test_a_signed_push_deploys_the_pushed_commit_and_a_replay_does_not(client, project):
    answer = send(client, project, push_payload(project))
    assert answer.status_code == 202, answer.json
    [deployment] = deployments(project)
    assert (deployment.commit_sha, deployment.branch, deployment.trigger) == (
        project.sha,
        "main",
        "push",
    )
    assert deployment.commit_message == "Fix the header"
    assert answer.json["deployments"] == [deployment.id]
    again = send(client, project, push_payload(project))
    assert again.status_code == 200 and "handled already" in again.json["outcome"]
    assert len(deployments(project)) == 1


def test_a_push_of_many_commits_is_not_refused_for_its_size(app, client, project, auth):
    commits = [{"id": f"{i:040x}", "message": "x" * 500} for i in range(6000)]  # about 3.3 MB
    answer = send(client, project, push_payload(project, commits=commits))
    assert answer.status_code == 202, answer.json
    assert len(deployments(project)) == 1
    app.config["WEBHOOK_MAX_BYTES"] = 1024 * 1024
    refused = send(client, project, push_payload(project, commits=commits), delivery="d-2")
    assert refused.status_code == 413  # the limit is the setting, not unbounded
    # Everywhere else the app-wide limit stays.
    big_json = {"name": "x" * (2 * 1024 * 1024)}
    too_big = client.post("/api/v1/projects", json=big_json, headers=auth)
    assert too_big.status_code == 413


@pytest.mark.parametrize("how", ["missing", "wrong secret", "tampered body"])
def test_unsigned_or_wrongly_signed_pushes_are_refused_and_start_nothing(client, project, how):
    payload = push_payload(project)
    if how == "missing":
        answer = client.post("/hooks/github", json=payload, headers={"X-GitHub-Event": "push"})
    elif how == "wrong secret":
        answer = send(client, project, payload, secret="not-the-secret")
    else:
        body = json.dumps(payload).encode()
        good = hmac.new(project.secret.encode(), body, hashlib.sha256).hexdigest()
        answer = client.post(
            "/hooks/github",
            data=body.replace(b"Fix", b"Fyx"),
            headers={"Content-Type": "application/json", "X-GitHub-Event": "push",
                     "X-Hub-Signature-256": f"sha256={good}"},
        )  # fmt: skip
    assert answer.status_code == 401
    assert deployments(project) == [] and db.session.query(WebhookDelivery).count() == 0


def test_ping_tags_deletions_and_branch_rules(client, project):
    assert send(client, project, push_payload(project), event="ping").json["outcome"] == "pong"
    tag = send(client, project, push_payload(project, ref="refs/tags/v1"), delivery="t")
    assert "tags do not deploy" in tag.json["outcome"]
    gone = send(client, project, push_payload(project, deleted=True), delivery="del")
    assert "was deleted" in gone.json["outcome"]
    other = send(client, project, push_payload(project, ref="refs/heads/wip"), delivery="wip")
    assert "does not build previews" in other.json["outcome"]
    assert deployments(project) == []
    feature = send(client, project, push_payload(project, ref="refs/heads/feature/x"), delivery="f")
    assert feature.status_code == 202
    assert [d.branch for d in deployments(project)] == ["feature/x"]
    outcomes = [d.outcome for d in db.session.query(WebhookDelivery).order_by(WebhookDelivery.id)]
    assert outcomes[0].startswith("Ignored") and outcomes[-1].startswith("Deployment #")


def test_gitlab_and_gitea_pushes(client, project):
    gitlab = push_payload(project)
    gitlab["project"] = {"path_with_namespace": "ada/shop"}
    del gitlab["repository"]
    assert send(client, project, gitlab, provider="gitlab", event="Push Hook").status_code == 202
    assert send(client, project, gitlab, provider="gitlab", event="Push Hook", secret="x" * 20,
                delivery="d-2").status_code == 401  # fmt: skip
    gitea = push_payload(project)
    assert send(client, project, gitea, provider="gitea", delivery="g-1").status_code == 202
    assert [d.trigger for d in deployments(project)] == ["push", "push"]


def test_a_newer_push_supersedes_the_queued_deploy_of_its_branch(client, project):
    send(client, project, push_payload(project), delivery="one")
    send(client, project, push_payload(project), delivery="two")
    first, second = deployments(project)
    assert first.status == "cancelled" and first.superseded_by == second.id
    assert first.error_message == f"Superseded by deployment #{second.id} of the same branch."
    assert second.status == "queued"
    project.supersede = False
    db.session.commit()
    send(client, project, push_payload(project), delivery="three")
    assert [d.status for d in deployments(project)] == ["cancelled", "queued", "queued"]


def test_deploy_hooks_are_shown_once_used_without_login_and_revoked(app, project):
    owner = User(username="owner")
    owner.set_password("correct horse battery")
    db.session.add(owner)
    db.session.flush()
    db.session.add(ProjectMember(project_id=project.id, user_id=owner.id, role=Role.OWNER))
    db.session.commit()
    browser = app.test_client()
    login(browser, "owner", "correct horse battery")
    made = browser.post(
        f"/projects/{project.id}/deploy-hooks",
        data={"name": "CMS publish", "csrf_token": page_csrf(browser)},
    )
    url = made.text.split("/hooks/deploy/")[1].split("<")[0]
    assert url.startswith("dh_")
    assert url not in browser.get(f"/projects/{project.id}/settings").text  # shown once
    anonymous = app.test_client()
    used = anonymous.post(f"/hooks/deploy/{url}?branch=main&clear_cache=1")
    assert used.status_code == 202, used.json
    [deployment] = deployments(project)
    assert deployment.trigger == "hook"
    assert anonymous.post("/hooks/deploy/dh_wrong").status_code == 404
    hook_id = db.session.query(DeployHook).one().id
    browser.post(
        f"/projects/{project.id}/deploy-hooks/{hook_id}/revoke",
        data={"csrf_token": page_csrf(browser)},
    )
    assert anonymous.post(f"/hooks/deploy/{url}").status_code == 404
