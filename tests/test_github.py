"""GitHub: connecting, listing and importing repositories, private clones that leak nothing."""

import pytest

from app.extensions import db
from app.models import Connection, Project
from app.pipeline.git import GitAuth, resolve_branch
from app.repos import resolve_head
from tests.git_hosts import TOKEN
from tests.sites import script_site
from tests.stack import Stack
from tests.test_web import login, page_csrf


@pytest.fixture
def hub(app, github, monkeypatch):
    app.config["GITHUB_API_URL"] = github.http.url
    return github


def test_connecting_checks_the_token_and_keeps_it_encrypted(browser, hub):
    refused = browser.post(
        "/github/connect",
        data={"token": "github_pat_wrong", "csrf_token": page_csrf(browser)},
        follow_redirects=True,
    )
    assert "GitHub refused the token" in refused.text
    assert db.session.query(Connection).count() == 0
    connected = browser.post(
        "/github/connect",
        data={"token": TOKEN, "csrf_token": page_csrf(browser)},
        follow_redirects=True,
    )
    assert "Connected to GitHub as ada" in connected.text
    stored = db.session.query(Connection).one()
    assert TOKEN not in stored.token and stored.login == "ada"
    assert TOKEN not in connected.text


@pytest.fixture
def browser(client, admin):
    login(client)
    return client


@pytest.fixture
def connected(browser, hub):
    for n in range(35):
        hub.add(f"ada/site-{n:02}", f"https://github.example/ada/site-{n:02}.git", private=n == 7)
    browser.post("/github/connect", data={"token": TOKEN, "csrf_token": page_csrf(browser)})
    return browser


def test_repositories_are_listed_page_by_page_and_filtered(connected):
    first = connected.get("/github/repositories")
    assert first.text.count('name="repository"') == 30 and "Next page" in first.text
    second = connected.get("/github/repositories?page=2", headers={"HX-Request": "true"})
    assert second.text.count('name="repository"') == 5 and "Next page" not in second.text
    assert "<html" not in second.text  # a fragment for htmx
    found = connected.get("/github/repositories?q=SITE-3", headers={"HX-Request": "true"})
    names = [n for n in range(35) if f"ada/site-{n:02}" in found.text]
    assert names == [30, 31, 32, 33, 34]  # found on the second page too


def test_importing_makes_a_project_with_the_repositorys_branch_privacy_and_url(connected, hub):
    hub.add("ada/blog", "https://github.example/ada/blog.git", private=True, default_branch="trunk")
    answer = connected.post(
        "/github/import", data={"repository": "ada/blog", "csrf_token": page_csrf(connected)}
    )
    assert answer.status_code == 302
    project = db.session.query(Project).filter_by(slug="blog").one()
    assert (project.branch, project.is_private, project.git_provider) == ("trunk", True, "github")
    assert project.repo_url == "https://github.example/ada/blog.git"
    assert project.repo_full_name == "ada/blog" and project.connection_id


def test_github_projects_resolve_heads_through_the_api(app, connected, hub, make_repo):
    repo = make_repo(script_site("true"), message="Ship the blog")
    hub.add("ada/blog", "https://github.example/ada/blog.git", repo=repo)
    connected.post(
        "/github/import", data={"repository": "ada/blog", "csrf_token": page_csrf(connected)}
    )
    project = db.session.query(Project).filter_by(slug="blog").one()
    head = resolve_head(project, "main")
    assert (head.sha, head.message, head.author) == (
        repo.head,
        "Ship the blog",
        "Ada Lovelace <ada@example.com>",
    )


def test_a_private_remote_needs_the_token_and_errors_never_show_it(git_server, make_repo):
    repo = make_repo(script_site("true"))
    url = git_server.add(repo, "secret-site", private=True)
    assert resolve_branch(url, "main", auth=GitAuth(TOKEN)) == repo.head
    with pytest.raises(Exception) as refused:
        resolve_branch(url, "main", auth=GitAuth("github_pat_wrong_0000"))
    assert "github_pat_wrong_0000" not in str(refused.value)
    with pytest.raises(Exception) as anonymous:
        resolve_branch(url, "main")
    assert "Could not read the repository" in str(anonymous.value)
    assert all(TOKEN not in header for header in git_server.authorizations)  # base64 only
    assert any(header.startswith("Basic ") for header in git_server.authorizations)


# What the build publishes about itself, so the test can look for the token
# where the log's masking would hide it: the checkout's git config and the
# build's environment.
INSPECT = (
    "mkdir -p dist && echo ok > dist/index.html && cat .git/config > dist/git-config.txt"
    " && env > dist/env.txt && git config --list --show-origin > dist/git-list.txt 2>&1; true"
)


@pytest.mark.e2e
def test_a_private_github_repository_deploys_and_its_token_stays_put(
    tmp_path, make_repo, git_server, github
):
    repo = make_repo(script_site(INSPECT), message="Private site")
    github.add("ada/private-site", git_server.add(repo, "private-site", private=True), repo=repo,
               private=True)  # fmt: skip
    stack = Stack(tmp_path / "stack", GITHUB_API_URL=github.http.url).start()
    try:
        browser = stack.http  # the admin's token; pages accept it as well
        browser.post(f"{stack.base_url}/github/connect", data={"token": TOKEN}, timeout=10)
        browser.post(
            f"{stack.base_url}/github/import", data={"repository": "ada/private-site"}, timeout=10
        )
        [project] = stack.api("GET", "/projects").json()["projects"]
        assert project["is_private"] and project["git_provider"] == "github"
        done = stack.wait(stack.deploy(project["id"])["deployment_id"])
        assert done["status"] == "deployed", stack.log_text(done["id"])
        assert done["commit_message"] == "Private site"

        published = [stack.site(project["slug"], f"/{name}").text
                     for name in ("git-config.txt", "env.txt", "git-list.txt")]  # fmt: skip
        assert "[core]" in published[0] and "PATH=" in published[1]
        everything = [*published, stack.log_text(done["id"]), str(stack.deployment(done["id"]))]
        for text in everything:
            assert TOKEN not in text and "SLIPWAY_GIT" not in text and "x-access-token" not in text
        states = [(s["state"], s["sha"]) for s in github.statuses]
        assert states == [("pending", done["commit_sha"]), ("success", done["commit_sha"])]
        assert github.statuses[-1]["target_url"] == done["url"]

        # The token is revoked on GitHub's side: the clone fails, and says so without it.
        git_server.token = "github_pat_rotated_0000"
        repo.commit({**script_site(INSPECT), "note.txt": "second"}, "Second")
        git_server.push(repo, "private-site")
        failed = stack.wait(stack.deploy(project["id"])["deployment_id"])
        assert failed["status"] == "failed" and failed["error"] == "clone_failed"
        assert TOKEN not in stack.log_text(failed["id"]) + failed["error_message"]
        assert github.statuses[-1]["state"] == "failure"
    finally:
        stack.stop()
