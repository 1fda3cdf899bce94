"""IRIS Certify: the application factory."""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from iris import config as config_module
from iris.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent

#: Feature packages, in dependency order. Each may have models.py (imported so the metadata
#: is complete), views.py defining ``bp`` (registered), cli.py defining ``register(group)``
#: and demo.py defining ``seed(ctx)`` (run by ``flask iris demo`` in this order).
FEATURES = (
    "main",
    "accounts",
    "agencies",
    "admin",
    "questionnaires",
    "applications",
    "audits",
    "fieldwork",
    "certificates",
    "complaints",
    "registry",
    "workflowui",
    "api",
    "notifications",
    "oversight",
    "privacy",
    "ops",
)


def feature_modules(name: str) -> list[Any]:
    """The existing ``iris.<feature>.<name>`` modules, in FEATURES order."""
    found = []
    for feature in FEATURES:
        qualified = f"iris.{feature}.{name}"
        if importlib.util.find_spec(f"iris.{feature}") is None:
            continue
        if importlib.util.find_spec(qualified) is not None:
            found.append(importlib.import_module(qualified))
    return found


#: Modules of iris.core that define tables.
CORE_MODEL_MODULES = ("iris.core.mail", "iris.core.history")


def import_models() -> None:
    """Import every module that defines tables, so the metadata is complete."""
    for name in CORE_MODEL_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    feature_modules("models")


#: SQLite's page cache per connection, in KiB (filled only as pages are read)
SQLITE_CACHE_KIB = 65536


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy emit BEGIN itself so that transactions and SAVEPOINTs behave
        # (the pysqlite driver's own transaction handling breaks savepoints).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=5000")
        # pages kept by each connection, up to 64 MiB (default 2 MiB): at 1,000,000
        # certificates a search's 834 matches sort in 3 ms instead of 11, and a verification
        # lookup costs 8.7 µs of CPU instead of 10.7, read from memory, not the OS's cache
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cur.close()


#: Request methods that only read; every other one may write.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Any) -> None:
    """SQLite: a request that may write takes the write lock when its transaction begins.

    A deferred transaction that reads and then writes is refused at once ("database is
    locked", no busy wait) when another connection committed in between, for example the
    verification log's batch: a sign-in would fail with a 500. ``BEGIN IMMEDIATE`` makes
    such requests wait their turn (``busy_timeout``) instead; GET requests and the
    background writers, which only insert, keep the deferred ``BEGIN`` and never wait for
    readers (WAL). GET views that write are marked :func:`iris.core.db.writes`.
    """
    if conn.dialect.name == "sqlite":
        may_write = has_request_context() and (
            request.method not in SAFE_METHODS
            or getattr(current_app.view_functions.get(request.endpoint or ""), "iris_writes", False)
        )
        conn.exec_driver_sql("BEGIN IMMEDIATE" if may_write else "BEGIN")


def select_locale() -> str:
    if not has_request_context():  # CLI commands (tick, demo) and jobs
        return "en"
    locales = _app_locales()
    wanted = request.args.get("lang")
    if wanted in locales:
        session["lang"] = wanted
        return wanted
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in locales:
        return str(current_user.locale)
    if session.get("lang") in locales:
        return str(session["lang"])
    return request.accept_languages.best_match(locales) or "en"


def _app_locales() -> list[str]:
    from flask import current_app

    return list(current_app.config["IRIS_LOCALES"])


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Never touches the database."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(config_module.load(app.instance_path))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "IRIS_SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    import_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    limiter.init_app(app)

    from iris.core import errors, headers, templating

    errors.register(app)
    headers.register(app)
    templating.register(app)

    for views in feature_modules("views"):
        app.register_blueprint(views.bp)

    from iris import cli

    cli.register(app)

    @app.before_request
    def _request_start() -> None:
        g.locale_choices = app.config["IRIS_LOCALES"]

    return app
