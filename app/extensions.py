"""Extensions live here so that nothing has to import the app factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

db = SQLAlchemy()
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits apply only where a route asks for one (the login form); counts live in
# Redis when there is one, so every web process shares them.
limiter = Limiter(get_remote_address, default_limits=[])
