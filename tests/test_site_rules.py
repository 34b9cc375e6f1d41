"""Parsing and matching `_headers` and `_redirects` (Netlify's formats)."""

import pytest

from app.site_rules import (
    RuleError,
    destination,
    find_redirect,
    headers_for,
    parse_headers,
    parse_redirects,
)


def test_redirect_rules_parse_with_defaults_force_and_line_numbers():
    rules = parse_redirects("# a comment\n\n/a  /b\n/c/*  /d/:splat  200!\n")
    assert rules == [
        {"from": "/a", "to": "/b", "status": 301, "force": False, "line": 3},
        {"from": "/c/*", "to": "/d/:splat", "status": 200, "force": True, "line": 4},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/ok /fine\n/only-one", "_redirects line 2: a rule needs a source path and a destination"),
        ("/a /b 418", "_redirects line 1: '418' is not a status Slipway supports"),
        ("/a /b 301 Country=nz", "_redirects line 1: unexpected 'Country=nz'"),
        ("a /b", "_redirects line 1: the path 'a' must start with /"),
        ("/a/*/b /c", "_redirects line 1: '/a/*/b': * may only end a path"),
        ("/a b", "_redirects line 1: the destination 'b' must start with / or http(s)://"),
        ("/a https://x.test/ 200", "_redirects line 1: a 200 or 404 rule must point at a path"),
        ("/a/:id /b/:slug", "_redirects line 1: ':slug' is used in the destination"),
        ("/a /b/:splat", "_redirects line 1: ':splat' needs a source that ends in *"),
    ],
)
def test_malformed_redirects_name_their_line(text, message):
    with pytest.raises(RuleError) as raised:
        parse_redirects(text)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  X-A: 1", "_headers line 1: a header comes before any path line"),
        ("/a\n  no colon here", "_headers line 2: 'no colon here' is not 'Name: value'"),
        ("/a\n  Bad Name: 1", "_headers line 2: 'Bad Name: 1' is not 'Name: value'"),
        ("/a\n  Content-Length: 5", "_headers line 2: Content-Length is set by Slipway"),
        ("/a\n  X-A: 1\n/b\n", "_headers line 3: '/b' has no headers under it"),
        ("assets/*\n  X-A: 1", "_headers line 1: the path 'assets/*' must start with /"),
    ],
)
def test_malformed_headers_name_their_line(text, message):
    with pytest.raises(RuleError) as raised:
        parse_headers(text)
    assert str(raised.value).startswith(message)


def test_placeholders_and_splats_fill_the_destination():
    rules = parse_redirects("/blog/:year/:slug/*  /posts/:slug/:year/:splat  302\n/x  /y")
    found = find_redirect(rules, "/blog/2026/hello/images/a.png")
    assert destination(found) == "/posts/hello/2026/images/a.png"
    assert find_redirect(rules, "/blog/2026") is None
    assert destination(find_redirect(rules, "/x/")) == "/y"  # trailing slash matches too


def test_only_forced_rules_match_when_a_file_exists():
    rules = parse_redirects("/a /b\n/c /d 301!")
    assert find_redirect(rules, "/a", forced_only=True) is None
    assert find_redirect(rules, "/c", forced_only=True).rule["to"] == "/d"


def test_patterns_are_literal_apart_from_placeholders():
    rules = parse_redirects("/a.b /x")
    assert find_redirect(rules, "/a.b") is not None
    assert find_redirect(rules, "/aXb") is None  # the dot is not a regex wildcard


def test_headers_from_every_matching_block_in_order():
    rules = parse_headers("/*\n  X-A: 1\n/docs/*\n  X-B: 2\n  X-A: 3\n")
    assert headers_for(rules, "/docs/x") == [("X-A", "1"), ("X-B", "2"), ("X-A", "3")]
    assert headers_for(rules, "/") == [("X-A", "1")]
