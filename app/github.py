"""The GitHub REST API, as much of it as Slipway uses. GITHUB_API_URL points elsewhere
for GitHub Enterprise Server (https://HOST/api/v3) and for the tests' stand-in."""

import re
from dataclasses import dataclass

import requests

TIMEOUT = 15
PER_PAGE = 30
_NEXT = re.compile(r'<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="next"')


class GitHubError(Exception):
    """GitHub refused or could not be reached; the message says what to do, never the token."""


@dataclass(frozen=True)
class Repo:
    full_name: str
    clone_url: str
    default_branch: str
    private: bool
    description: str


@dataclass(frozen=True)
class Head:
    sha: str
    message: str | None = None
    author: str | None = None


class GitHub:
    def __init__(self, api_url: str, token: str):
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "Slipway",
            }
        )

    def login(self) -> str:
        """The account the token belongs to (and proof that it works)."""
        return self._get("/user").json()["login"]

    def repositories(self, page: int = 1) -> tuple[list[Repo], int | None]:
        """One page of the repositories the token can see, and the next page's number."""
        response = self._get(
            "/user/repos", params={"per_page": PER_PAGE, "page": page, "sort": "pushed"}
        )
        found = _NEXT.search(response.headers.get("Link", ""))
        repos = [
            Repo(
                full_name=item["full_name"],
                clone_url=item["clone_url"],
                default_branch=item.get("default_branch") or "main",
                private=bool(item.get("private")),
                description=item.get("description") or "",
            )
            for item in response.json()
        ]
        return repos, int(found[1]) if found else None

    def repository(self, full_name: str) -> Repo:
        item = self._get(f"/repos/{full_name}").json()
        return Repo(
            item["full_name"],
            item["clone_url"],
            item.get("default_branch") or "main",
            bool(item.get("private")),
            item.get("description") or "",
        )

    def head(self, full_name: str, branch: str) -> Head:
        """The commit at the head of `branch`: SHA, message and author."""
        data = self._get(
            f"/repos/{full_name}/commits/{branch}", missing=f"Branch '{branch}'"
        ).json()
        commit = data.get("commit") or {}
        author = commit.get("author") or {}
        name = f"{author.get('name')} <{author.get('email')}>" if author.get("name") else None
        return Head(data["sha"], commit.get("message"), name)

    def set_status(self, full_name: str, sha: str, state: str, url: str | None, text: str) -> None:
        """Report pending / success / failure / error on a commit, linking to the deployment."""
        body = {"state": state, "context": "slipway", "description": text[:140]}
        if url:
            body["target_url"] = url
        self._call("POST", f"/repos/{full_name}/statuses/{sha}", json=body)

    def _get(self, path: str, missing: str = "The repository", **kwargs) -> requests.Response:
        return self._call("GET", path, missing=missing, **kwargs)

    def _call(self, method: str, path: str, missing: str = "It", **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, self.api_url + path, timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(
                f"GitHub could not be reached ({type(exc).__name__}); check GITHUB_API_URL "
                "and the network."
            ) from None
        if response.status_code == 401:
            raise GitHubError("GitHub refused the token: it is wrong, expired or revoked.")
        if response.status_code in (403, 404):
            raise GitHubError(
                f"{missing} was not found, or the token may not read it (a fine-grained "
                "token needs access to the repository: Contents read, Commit statuses write)."
            )
        if response.status_code >= 300:
            raise GitHubError(f"GitHub answered {response.status_code} to {method} {path}.")
        return response
