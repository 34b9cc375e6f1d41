"""Talk to Git remotes: resolve a branch head, clone one exact commit."""

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import git

from app.pipeline.errors import Cancelled, StepFailed
from app.runners.base import LineCallback
from app.runners.process import run_process
from app.secrets import Masker

LS_REMOTE_TIMEOUT = 30
ASKPASS = Path(__file__).with_name("askpass.sh")


@dataclass(frozen=True)
class GitAuth:
    """Credentials for an HTTPS remote: a token (and the user name hosts expect with it)."""

    token: str
    username: str = "x-access-token"  # GitHub's; GitLab and Gitea accept any name

    def __repr__(self) -> str:  # never in a traceback or a log line
        return "GitAuth(token=***)"


_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)


def scrub(text: str) -> str:
    """Remove credentials embedded in URLs (https://user:token@host) from a message."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def fetchable_url(url: str) -> str:
    """Local paths become file:// URLs, which is what lets git make a shallow fetch."""
    if "://" in url or re.match(r"^[\w.-]+@[\w.-]+:", url):
        return url
    return Path(url).expanduser().resolve().as_uri()


def git_env(auth: GitAuth | None = None) -> dict[str, str]:
    """An environment in which git never stops to ask for a password.

    With `auth`, git's askpass hook answers from two variables of this
    environment: the token reaches git and nothing it starts for the build.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        # No system or user config: no credential helper stores what askpass says.
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LANG": "C.UTF-8",
    }
    if auth is not None:
        env.update(
            GIT_ASKPASS=str(ASKPASS),
            SLIPWAY_GIT_USERNAME=auth.username,
            SLIPWAY_GIT_PASSWORD=auth.token,
        )
    return env


def scrubber(auth: GitAuth | None):
    """scrub(), plus the token in every form it could be printed in."""
    mask = Masker([auth.token]) if auth else (lambda text: text)
    return lambda text: mask(scrub(text))


class RepoError(Exception):
    """The repository or branch cannot be reached; the message is safe to show."""


def resolve_branch(url: str, branch: str, auth: GitAuth | None = None) -> str:
    """Return the SHA at the head of `branch` without cloning."""
    clean = scrubber(auth)
    try:
        output = git.cmd.Git().ls_remote(
            fetchable_url(url),
            f"refs/heads/{branch}",
            env=git_env(auth),
            kill_after_timeout=LS_REMOTE_TIMEOUT,
        )
    except git.GitCommandError as exc:
        detail = clean((exc.stderr or "").strip().removeprefix("stderr:").strip(" '\n"))
        raise RepoError(
            f"Could not read the repository {scrub(url)}: "
            f"{detail or 'git ls-remote failed'}. Check the Git URL and that "
            "Slipway can reach it."
        ) from None
    sha = output.split()[0] if output.strip() else ""
    if not sha:
        raise RepoError(
            f"Branch '{branch}' was not found in {scrub(url)}. Push the branch or "
            "pick another one in the project settings."
        )
    return sha


def clone(
    url: str,
    sha: str,
    branch: str,
    dest: Path,
    *,
    timeout: float,
    on_line: LineCallback,
    cancel: threading.Event,
    auth: GitAuth | None = None,
) -> None:
    """Make `dest` a shallow checkout of exactly `sha`.

    The remote is named on the fetch's command line, not stored as a remote,
    so .git/config of the checkout holds no URL and no credential.
    """
    remote = fetchable_url(url)
    fetch = ["fetch", "--depth=1", "--no-tags", "--progress", remote, sha]
    commands = [
        ["git", "init", "--quiet", str(dest)],
        ["git", "-C", str(dest), *fetch],
        [
            "git",
            "-C",
            str(dest),
            "-c",
            "advice.detachedHead=false",
            "checkout",
            "--quiet",
            "--detach",
            "FETCH_HEAD",
        ],
    ]
    dest.parent.mkdir(parents=True, exist_ok=True)
    clean = scrubber(auth)
    scrubbed = lambda stream, text: on_line(stream, clean(text))  # noqa: E731
    for argv in commands:
        result = run_process(
            argv,
            cwd=dest.parent,
            env=git_env(auth),
            timeout=timeout,
            on_line=scrubbed,
            cancel=cancel,
        )
        _check_clone(result, argv, branch, sha)


def _check_clone(result, argv: list[str], branch: str, sha: str) -> None:
    if result.cancelled:
        raise Cancelled()
    if result.timed_out:
        raise StepFailed(
            "timeout",
            "The clone step timed out (CLONE_TIMEOUT). Check that the "
            "repository is reachable and not unusually large.",
        )
    if result.exit_code != 0:
        raise StepFailed(
            "clone_failed",
            f"Could not fetch commit {sha[:7]} of branch '{branch}' "
            f"(git {_verb(argv)} exited with "
            f"{result.exit_code}). The log above shows git's message.",
        )


def _verb(argv: list[str]) -> str:
    return next(arg for arg in argv[1:] if arg in ("init", "fetch", "checkout"))


def commit_info(checkout: Path) -> tuple[str, str]:
    """Return (message, author) of the checked-out commit."""
    commit = git.Repo(checkout).head.commit
    return commit.message.strip(), f"{commit.author.name} <{commit.author.email}>"
