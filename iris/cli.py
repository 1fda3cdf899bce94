"""``flask --app wsgi iris ...``: administration commands.

Features add their own commands through ``iris/<feature>/cli.py: register(group)`` and their
demo data through ``iris/<feature>/demo.py: seed(ctx)``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from iris.core.db import db

iris_group = AppGroup("iris", help="IRIS Certify administration.")


@dataclass
class DemoContext:
    """What the demo seeders share: the objects they made, by name, and the logins."""

    rng: random.Random
    password: str
    scale: int = 1
    objects: dict[str, Any] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, e-mail, org)


@iris_group.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a scheme administrator (and the scheme manager organisation if missing)."""
    from iris.accounts.operations import create_scheme_admin

    try:
        create_scheme_admin(email=email, name=name, password=password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Scheme administrator {email} created.")


@iris_group.command("demo")
@click.option(
    "--password",
    default="demo-password-1",
    show_default=True,
    help="Password of every demo account (local demo only).",
)
@click.option("--seed", default=2026, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if users exist.")
def demo(password: str, seed: int, if_empty: bool) -> None:
    """Load demo data: organisations, people in every role, and their work."""
    from iris import feature_modules
    from iris.accounts.models import User

    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        if if_empty:
            click.echo("The database already has data: demo data not loaded again.")
            return
        raise click.ClickException(
            "The database already has users: demo data loads only into an empty database."
        )
    ctx = DemoContext(rng=random.Random(seed), password=password)
    for module in feature_modules("demo"):
        module.seed(ctx)
        db.session.flush()
    db.session.commit()
    click.echo("Demo data loaded. Sign in at http://127.0.0.1:5000/login with:")
    width = max(len(e) for _, e, _ in ctx.logins)
    for role, email, org in ctx.logins:
        click.echo(f"  {email:<{width}}  {role:<22} {org}")
    click.echo(f"Every demo account's password: {password}")


def register(app: Flask) -> None:
    from iris import feature_modules

    for module in feature_modules("cli"):
        module.register(iris_group)
    app.cli.add_command(iris_group)
