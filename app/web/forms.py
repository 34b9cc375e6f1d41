"""Forms: they carry the CSRF token; the project rules live in app/projects.py."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class SetupForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        "Repeat password", validators=[EqualTo("password", "The passwords differ.")]
    )


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Stay logged in")


class ProjectForm(FlaskForm):
    name = StringField("Name")
    repo_url = StringField("Git URL")
    branch = StringField("Branch", default="main")
    root_dir = StringField("Root directory")
    install_command = StringField("Install command")
    build_command = StringField("Build command")
    output_dir = StringField("Output directory")
    node_version = StringField("Node.js version")
    build_network = BooleanField("Network access during the build step", default=True)
    spa_fallback = BooleanField("Single-page app: serve index.html for paths with no file")
    hold_risky_deploys = BooleanField(
        "Hold back a deploy that loses index.html or most of the live files", default=True
    )
    private_previews = BooleanField("Private previews: only members may open d<id>-- addresses")
    keep_deployments = StringField("Deployments to keep")
    preview_branches = StringField("Branches that deploy previews on push", default="*")
    supersede = BooleanField(
        "A new deploy of a branch cancels its older queued and running ones", default=True
    )
    commit_statuses = BooleanField("Report deployments as commit statuses on GitHub", default=True)
    public_url = StringField("Public URL")

    def values(self) -> dict:
        return {
            name: self[name].data
            for name in (
                "build_network",
                "spa_fallback",
                "hold_risky_deploys",
                "private_previews",
                "keep_deployments",
                "preview_branches",
                "supersede",
                "commit_statuses",
                "public_url",
                "name",
                "repo_url",
                "branch",
                "root_dir",
                "install_command",
                "build_command",
                "output_dir",
                "node_version",
            )
        }

    def show_errors(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            if field in self:
                self[field].errors = [message]
