"""Commands for admins and scripts: `flask --app wsgi users create`, `tokens create`."""

import click
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User


def init_app(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(images)


@click.group(help="Manage users.")
def users():
    pass


@users.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Allow managing users and every project.")
def create_user(username: str, password: str, admin: bool):
    """Create a user."""
    if db.session.scalar(select(User.id).filter_by(username=username)):
        raise click.ClickException(f"User '{username}' exists already.")
    if len(password) < 10:
        raise click.ClickException("Use a password of at least 10 characters.")
    user = User(username=username, is_admin=admin)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {'admin' if admin else 'user'} {username}.", err=True)


@click.group(help="Manage API tokens.")
def tokens():
    pass


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="A label to recognise the token by.")
def create_token(username: str, name: str):
    """Create an API token for USERNAME and print it alone on stdout."""
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        raise click.ClickException(
            f"No user '{username}'. Create one with 'flask --app wsgi users create'."
        )
    token, plain = ApiToken.issue(user, name)
    db.session.add(token)
    db.session.commit()
    click.echo(plain)


@click.group(help="Build the Node.js images the Docker runner uses.")
def images():
    pass


@images.command("build")
@click.option(
    "--node",
    "versions",
    multiple=True,
    required=True,
    help="Node.js major version (16, 18, 20, 22); repeat for several.",
)
@click.option(
    "--tag",
    default=None,
    help="Image tag template; defaults to NODE_IMAGE, e.g. slipway-node:{version}.",
)
def build_images(versions: tuple[str, ...], tag: str | None):
    """Build Node images from packages, with no image registry."""
    import docker
    from flask import current_app

    from app.images import build_node_image, image_for

    template = tag or current_app.config["NODE_IMAGE"]
    client = docker.from_env()
    for major in versions:
        name = image_for(template, major)
        click.echo(f"Building {name}", err=True)
        try:
            build_node_image(
                client, major, name, say=lambda line: click.echo(f"  {line}", err=True)
            )
        except (ValueError, RuntimeError, docker.errors.DockerException) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(name)
