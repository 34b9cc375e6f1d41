"""Slipway: turn a Git repository into a live website, on your own servers."""

from flask import Flask
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import ROOT, Config, _instance_id
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.secrets import load_key


def create_app(config_class=Config) -> Flask:
    app = Flask(
        __name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static")
    )
    app.config.from_object(config_class)
    if not app.config.get("INSTANCE_ID"):  # a test config may leave it out
        app.config["INSTANCE_ID"] = _instance_id(app.config["SQLALCHEMY_DATABASE_URI"])
    for key in ("DATA_DIR", "STORAGE_DIR", "BUILDS_DIR", "CACHE_DIR"):
        app.config[key].mkdir(parents=True, exist_ok=True)

    # Refuse to start without the key rather than ever store a secret in plain text.
    app.extensions["slipway_fernet"] = load_key(app.config.get("SECRETS_KEY"))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine)

    from app import auth, cli, errors, security, sites
    from app.api import bp as api_bp
    from app.web import register as register_web

    app.before_request(sites.serve_site_request)  # first: sites need no login
    auth.init_app(app)
    register_web(app)
    security.init_app(app)
    errors.init_app(app)
    app.register_blueprint(api_bp)
    cli.init_app(app)
    if hops := app.config["PROXY_HOPS"]:
        # Behind a proxy: the client's address (login limits), scheme and host
        # (links, site addresses) come from the headers the proxy adds.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _tune_sqlite(engine) -> None:
    """WAL lets the web process read while a consumer writes; wait on locks, don't fail."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
