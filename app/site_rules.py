"""`_headers` and `_redirects`: Netlify's file formats, parsed at publish time.

A malformed rule fails the publish with its line number, so a typo never
reaches a live site. The parsed rules travel in the manifest and are matched
per request by the site server.

    _redirects:  /old/*   /new/:splat   301      (status optional, 301 by default;
                 /app/*   /index.html   200       200 rewrites, 404 serves a page
                 /blog/:year/:slug  /posts/:slug  302!    with that status; ! forces
                                                          the rule over an existing file)
    _headers:    /assets/*
                   Cache-Control: public, max-age=600
"""

import functools
import re
from dataclasses import dataclass

REDIRECT_STATUSES = (200, 301, 302, 303, 307, 308, 404)
# Headers whose values Slipway computes; a rule setting them would corrupt responses.
RESERVED_HEADERS = frozenset(
    {"content-length", "content-encoding", "content-range", "transfer-encoding", "connection"}
)
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")
MAX_RULES = 1000


class RuleError(ValueError):
    """A line of `_headers` or `_redirects` that cannot be used; says which and why."""

    def __init__(self, file: str, line: int, reason: str):
        super().__init__(f"{file} line {line}: {reason}")


@dataclass(frozen=True)
class Match:
    rule: dict
    params: dict[str, str]


def parse_redirects(text: str) -> list[dict]:
    """Read a `_redirects` file into rules, in file order (the first match wins)."""
    rules = []
    for number, line in _lines("_redirects", text):
        rules.append(_redirect_rule(number, line.split()))
    _check_count("_redirects", rules)
    return rules


def _redirect_rule(number: int, fields: list[str]) -> dict:
    def fail(reason: str):
        return RuleError("_redirects", number, reason)

    if len(fields) < 2:
        raise fail("a rule needs a source path and a destination, like '/old /new 301'.")
    if len(fields) > 3:
        raise fail(
            f"unexpected '{fields[3]}'. Conditions (query parameters, country, language) "
            "are not supported; write 'FROM TO [STATUS]'."
        )
    source, target = fields[0], fields[1]
    status_text = fields[2] if len(fields) == 3 else "301"
    force = status_text.endswith("!")
    status_text = status_text.rstrip("!")
    if not status_text.isdigit() or int(status_text) not in REDIRECT_STATUSES:
        allowed = ", ".join(map(str, REDIRECT_STATUSES))
        raise fail(f"'{fields[2]}' is not a status Slipway supports ({allowed}).")
    status = int(status_text)
    _check_pattern("_redirects", number, source)
    external = target.startswith(("https://", "http://"))
    if not (target.startswith("/") or external):
        raise fail(f"the destination '{target}' must start with / or http(s)://.")
    if external and status in (200, 404):
        raise fail(
            "a 200 or 404 rule must point at a path on this site; proxying is not supported."
        )
    missing = set(_PLACEHOLDER.findall(target)) - set(_PLACEHOLDER.findall(source)) - {"splat"}
    if missing:
        raise fail(f"':{sorted(missing)[0]}' is used in the destination but not in the source.")
    if ":splat" in target and not source.endswith("*"):
        raise fail("':splat' needs a source that ends in *.")
    return {"from": source, "to": target, "status": status, "force": force, "line": number}


def parse_headers(text: str) -> list[dict]:
    """Read a `_headers` file: path lines, each followed by indented 'Name: value' lines."""
    rules: list[dict] = []
    for number, line in _lines("_headers", text, keep_indent=True):
        if not line[0].isspace():
            _check_pattern("_headers", number, line.strip())
            rules.append({"path": line.strip(), "headers": [], "line": number})
            continue
        if not rules:
            raise RuleError("_headers", number, "a header comes before any path line.")
        rules[-1]["headers"].append(_header_line(number, line.strip()))
    for rule in rules:
        if not rule["headers"]:
            raise RuleError("_headers", rule["line"], f"'{rule['path']}' has no headers under it.")
    _check_count("_headers", rules)
    return rules


def _header_line(number: int, line: str) -> list[str]:
    name, colon, value = line.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not _HEADER_NAME.match(name):
        raise RuleError("_headers", number, f"'{line}' is not 'Name: value'.")
    if name.lower() in RESERVED_HEADERS:
        raise RuleError("_headers", number, f"{name} is set by Slipway and cannot be changed.")
    return [name, value]


def _lines(file: str, text: str, keep_indent: bool = False):
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if any(ord(ch) < 32 and ch != "\t" for ch in raw):
            raise RuleError(file, number, "control characters are not allowed.")
        yield number, raw.rstrip() if keep_indent else stripped


def _check_pattern(file: str, number: int, pattern: str) -> None:
    if not pattern.startswith("/"):
        raise RuleError(file, number, f"the path '{pattern}' must start with /.")
    if "*" in pattern[:-1]:
        raise RuleError(file, number, f"'{pattern}': * may only end a path, as in /blog/*.")


def _check_count(file: str, rules: list) -> None:
    if len(rules) > MAX_RULES:
        raise RuleError(file, rules[MAX_RULES]["line"], f"more than {MAX_RULES} rules.")


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern:
    splat = pattern.endswith("*")
    body = pattern[:-1] if splat else pattern
    parts = []
    position = 0
    for found in _PLACEHOLDER.finditer(body):
        parts.append(re.escape(body[position : found.start()]))
        parts.append(f"(?P<{found[1]}>[^/]+)")
        position = found.end()
    parts.append(re.escape(body[position:]))
    regex = "".join(parts)
    if splat:
        regex += "(?P<splat>.*)"
    else:
        regex = regex.rstrip("/") + "/?"  # /about matches /about/ too
    return re.compile(f"^{regex}$")


def match(pattern: str, path: str) -> dict[str, str] | None:
    found = _compile(pattern).match(path)
    return None if found is None else {k: v or "" for k, v in found.groupdict().items()}


def find_redirect(rules: list[dict], path: str, forced_only: bool = False) -> Match | None:
    """The first rule matching `path` (only forced ones when a file exists there)."""
    for rule in rules:
        if forced_only and not rule["force"]:
            continue
        params = match(rule["from"], path)
        if params is not None:
            return Match(rule, params)
    return None


def destination(found: Match) -> str:
    return _PLACEHOLDER.sub(lambda m: found.params.get(m[1], m[0]), found.rule["to"])


def headers_for(rules: list[dict], path: str) -> list[tuple[str, str]]:
    """Every header of every `_headers` block whose path matches, in file order."""
    result = []
    for rule in rules:
        if match(rule["path"], path) is not None:
            result.extend((name, value) for name, value in rule["headers"])
    return result
