from app.models.access import AuditEvent, ProjectMember, Role
from app.models.deployment import Deployment, LogLine, Status
from app.models.hooks import Connection, DeployHook, WebhookDelivery
from app.models.project import Project
from app.models.user import ApiToken, User
from app.models.variable import Target, Variable

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Connection",
    "DeployHook",
    "Deployment",
    "LogLine",
    "Project",
    "ProjectMember",
    "Role",
    "Status",
    "Target",
    "User",
    "Variable",
    "WebhookDelivery",
]
