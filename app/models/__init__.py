from app.models.deployment import Deployment, LogLine, Status
from app.models.project import Project
from app.models.user import ApiToken, User

__all__ = ["ApiToken", "Deployment", "LogLine", "Project", "Status", "User"]
