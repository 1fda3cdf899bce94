"""``flask --app wsgi iris questionnaire validate|import|publish``."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from iris.core.db import db
from iris.questionnaires import definition as d
from iris.questionnaires import operations as ops
from iris.questionnaires.models import PublishedVersionError, QuestionnaireVersion

DEFINITIONS = Path(__file__).resolve().parent / "definitions"


def _problems_or_data(path: str) -> object:
    try:
        data = d.read_data(path)
    except d.DefinitionError as exc:
        _report(path, exc.problems)
    problems = d.validate_definition(data)
    if problems:
        _report(path, problems)
    return data


def _report(path: str, problems: list[d.Problem]) -> None:
    click.echo(f"{path}: {len(problems)} problem(s):", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    raise SystemExit(1)


def register(group: AppGroup) -> None:
    @group.group("questionnaire")
    def questionnaire() -> None:
        """Questionnaire definitions: validate, import, publish."""

    @questionnaire.command("validate")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def validate(file: str) -> None:
        """Check FILE and report every problem with its location."""
        data = _problems_or_data(file)
        definition = d.parse_definition(data)
        click.echo(
            f"{file}: valid — {definition.code} {definition.version}, "
            f"{len(definition.sections)} sections, {len(definition.questions)} questions, "
            f"{len(definition.fields)} answers, locales {', '.join(definition.locales)}."
        )

    @questionnaire.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def import_(file: str) -> None:
        """Import FILE as a draft version (nothing is imported while any problem remains)."""
        data = _problems_or_data(file)
        try:
            result = ops.import_version(data)
        except PublishedVersionError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        v = result.version
        words = {
            "created": "imported as a draft",
            "replaced": "draft replaced",
            "unchanged": "already imported, unchanged",
        }
        state = "published" if v.is_published else "not published"
        click.echo(f"{v.code} {v.version}: {words[result.status]} ({state}).")

    @questionnaire.command("publish")
    @click.argument("code")
    @click.argument("version")
    def publish(code: str, version: str) -> None:
        """Freeze version VERSION of CODE: it can never change afterwards."""
        row = db.session.scalar(
            sa.select(QuestionnaireVersion).where(
                QuestionnaireVersion.code == code, QuestionnaireVersion.version == version
            )
        )
        if row is None:
            raise click.ClickException(f"no questionnaire {code} {version}; import it first")
        try:
            ops.publish_version(row)
        except PublishedVersionError as exc:
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"{code} {version} published.")
