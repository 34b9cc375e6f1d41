"""Dashboard pages, rendered with Jinja and updated with htmx."""

from flask_login import current_user

from app.access import can
from app.health import redis_down
from app.pipeline.state import queue_position
from app.sites import live_url, site_url


def register(app) -> None:
    from app.web import admin, auth, deployments, github, hooks, ops, project_access, projects

    app.register_blueprint(auth.bp)
    app.register_blueprint(projects.bp)
    app.register_blueprint(project_access.bp)
    app.register_blueprint(deployments.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(github.bp)
    app.register_blueprint(ops.bp)
    app.add_template_global(user_can, "can")
    app.add_template_global(site_url)
    app.add_template_global(live_url)
    app.add_template_global(queue_position)
    app.add_template_filter(format_seconds, "seconds")
    app.context_processor(lambda: {"redis_down": redis_down})


def user_can(project, action: str) -> bool:
    """In templates: may the current user do `action` ("deploy", "manage") on the project?"""
    return can(current_user, project, action)


def format_seconds(value: float) -> str:
    """42.3 -> '42.3s', 125 -> '2m 5s'."""
    if value < 60:
        return f"{value:.1f}s"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}m {seconds}s"
