"""A person's first session, in Chromium: set up, create a project, deploy, watch, cancel.

Screenshots go to $SLIPWAY_SCREENSHOTS (`make screenshots` points it at
docs/screenshots) or to a temporary directory.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import GitRepo, require_tool
from tests.sites import script_site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SLOW_SITE = script_site(
    "node build.js",
    **{
        "build.js": """
const fs = require("fs");
let step = 0;
const timer = setInterval(() => {
  step += 1;
  console.log(`compiling page ${step} of 60`);
  if (step === 60) {
    clearInterval(timer);
    fs.mkdirSync("dist", { recursive: true });
    fs.writeFileSync("dist/index.html",
      "<!doctype html><title>Hello</title><h1>Hello from Slipway</h1>");
  }
}, 50);
"""
    },
)


@pytest.fixture
def page(tmp_path):
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 860})
        page = context.new_page()
        # The dashboard's Content-Security-Policy forbids inline scripts and
        # styles: anything it blocks is a bug, reported in the console.
        blocked = []
        page.on(
            "console",
            lambda message: (
                blocked.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        yield page
        browser.close()
        assert blocked == [], blocked


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SLIPWAY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return lambda page, name: page.screenshot(path=str(folder / f"{name}.png"))


@pytest.fixture
def hello_repo():
    """The site's repository, at a short neutral path (it shows in the screenshots)."""
    folder = Path(tempfile.mkdtemp(prefix="hello-slipway-"))
    repo = GitRepo(folder)
    repo.git("init", "--quiet", "-b", "main")
    repo.commit(SLOW_SITE, "Say hello")
    yield repo
    shutil.rmtree(folder, ignore_errors=True)


def test_first_deploy_from_setup_to_live_site_then_cancel(fresh_stack, page, shots, hello_repo):
    from playwright.sync_api import expect

    repo = hello_repo
    page.goto(fresh_stack.base_url + "/")
    expect(page).to_have_url(re.compile(r"/setup$"))
    page.fill("#username", "ada")
    page.fill("#password", "a long password")
    page.fill("#confirm", "a long password")
    shots(page, "1-setup")
    page.click("text=Create admin")

    page.click("text=New project")
    page.fill("#name", "Hello Slipway")
    page.fill("#repo_url", str(repo.path))
    shots(page, "2-new-project")
    page.click("text=Create project")
    expect(page.locator("h1")).to_have_text("Hello Slipway")

    page.click("button.deploy")
    card = page.locator("article.deployment").first
    expect(card.locator(".badge").first).to_have_class(re.compile("badge-yellow"))
    expect(page.locator("button.deploy")).to_have_text(re.compile("Build in progress"))
    expect(card.locator(".log-step").first).to_have_text(re.compile("CLONING"))
    expect(card.locator(".log-line", has_text="compiling page 30 of 60")).to_be_visible()
    shots(page, "3-building")
    viewer = card.locator(".log-viewer")
    assert viewer.evaluate("v => v.scrollTop + v.clientHeight >= v.scrollHeight - 10")

    expect(card.locator(".badge").first).to_have_class(re.compile("badge-green"), timeout=60_000)
    expect(card.locator(".badge-live")).to_be_visible()
    expect(card.locator(".log-step", has_text="BUILDING")).to_contain_text("s")
    expect(page.locator("button.deploy")).to_have_text(re.compile("Deploy"))
    shots(page, "4-deployed")

    site_url = f"http://hello-slipway.{fresh_stack.domain}/"
    expect(page.locator("#deploy-controls a.site-link")).to_have_text(site_url)
    with page.context.expect_page() as opened:
        page.click("#deploy-controls a.site-link")
    site = opened.value
    expect(site.locator("h1")).to_have_text("Hello from Slipway")
    shots(site, "5-site")
    site.close()

    repo.commit(script_site("echo started; sleep 900"), "A build that never ends")
    page.click("button.deploy")
    slow = page.locator("article.deployment").first
    expect(slow.get_by_text("started", exact=True)).to_be_visible(timeout=60_000)
    slow.locator("button", has_text="Cancel").click()
    expect(slow.locator(".badge").first).to_have_text("cancelled", timeout=10_000)
    expect(slow.locator(".error")).to_have_text("Cancelled by a user.")
    shots(page, "6-cancelled")
    assert page.locator(".badge-live").count() == 1  # the first deployment is still live

    repo.commit(
        script_site("mkdir -p dist && echo '<h1>Version two</h1>' > dist/index.html"), "Version two"
    )
    page.click("button.deploy")
    expect(page.locator("article.deployment").first.locator(".badge-live")).to_be_visible(
        timeout=60_000
    )
    first = page.locator("article.deployment").last
    first.get_by_role("button", name="Roll back to this").click()
    expect(page.locator(".flash")).to_contain_text("is live now")
    expect(page.locator("article.deployment").last.locator(".badge-live")).to_be_visible()
    shots(page, "7-rolled-back")
    site = page.context.new_page()
    site.goto(site_url)
    expect(site.locator("h1")).to_have_text("Hello from Slipway")
