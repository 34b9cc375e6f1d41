"""Security headers for the dashboard; sites send their own (see app/sites.py)."""

from flask import g

# No inline scripts or styles anywhere in the dashboard: htmx is told not to
# inject its indicator style (templates/base.html), and nothing uses eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app) -> None:
    app.after_request(add_headers)


def add_headers(response):
    if g.get("site_request"):
        return response  # a published site: its own _headers decide
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
