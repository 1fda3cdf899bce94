"""``flask --app wsgi iris verify-history`` and ``flask --app wsgi iris tick``."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from iris.core.db import db, utcnow


def register(group: click.Group) -> None:
    group.add_command(verify_history)
    group.add_command(tick)


@click.command("verify-history")
def verify_history() -> None:
    """Check every transition record's hash chain; exit 1 naming the first broken link."""
    from iris.core import workflow
    from iris.core.history import verify_chains

    workflow.load_all()
    result = verify_chains(db.session)
    mismatches = workflow.state_mismatches()
    click.echo(f"Checked {result.checked} transition records in {result.chains} chains.")
    if result.ok and not mismatches:
        click.echo("Every chain is intact and every state matches its history.")
        return
    for brk in result.breaks:
        click.echo(f"BROKEN: {brk}", err=True)
    for line in mismatches:
        click.echo(f"STATE CHANGED OUTSIDE THE WORKFLOW: {line}", err=True)
    first = result.breaks[0] if result.breaks else mismatches[0]
    raise click.ClickException(f"history does not verify; first problem: {first}")


def _parse_at(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if not value:
        return utcnow()
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("give an ISO 8601 date and time, e.g. 2026-05-01T06:00") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@click.command("tick")
@click.option("--at", "at", callback=_parse_at, help="Act as if it were this moment (UTC).")
def tick(at: datetime) -> None:
    """Fire every time-based transition that is due (idempotent: run it as often as you like)."""
    from iris.core import workflow

    result = workflow.tick(at)
    db.session.commit()
    for name, subject_id, trigger in result.fired:
        click.echo(f"{name} #{subject_id}: {trigger}")
    for name, subject_id, trigger, problem in result.failed:
        click.echo(f"FAILED {name} #{subject_id}: {trigger}: {problem}", err=True)
    click.echo(f"{len(result.fired)} time-based transition(s) fired at {at.isoformat()}.")
    # then the features' date-driven reminders (keyed by date: a re-run sends nothing twice)
    from iris import feature_modules

    reminders = 0
    for module in feature_modules("operations"):
        on_tick = getattr(module, "on_tick", None)
        if on_tick is not None:
            reminders += int(on_tick(at) or 0)
            db.session.commit()
    click.echo(f"{reminders} reminder(s) queued.")
    if result.failed:
        raise SystemExit(1)
