"""``flask --app wsgi iris backup create DIR`` / ``... backup restore DIR`` / ``iris outbox``,
and the ``--scale N`` option of ``iris demo`` (iris/ops/scale.py)."""

from __future__ import annotations

import functools
from typing import Any

import click

from iris.core.db import db


def register(group: click.Group) -> None:
    group.add_command(backup)
    group.add_command(outbox)
    group.add_command(periodic)
    _add_scale_option(group)


def _add_scale_option(group: click.Group) -> None:
    """Give ``iris demo`` (defined in iris/cli.py) the option ``--scale N``.

    ``demo --scale N`` loads the normal demo data when the database is empty, then adds N
    certificates with their agencies, applications, cases, histories and registry entries
    in bulk (:func:`iris.ops.scale.build_scale`). On a database that has data already it
    only adds (``--if-empty``: does nothing then). Idempotent: the group is module-level
    and ``register`` runs once per app.
    """
    demo = group.commands.get("demo")
    if demo is None or any(p.name == "scale" for p in demo.params):
        return
    original = demo.callback
    assert original is not None

    @functools.wraps(original)
    def callback(scale: int | None = None, **kwargs: Any) -> Any:
        if not scale:
            return original(**kwargs)
        import sqlalchemy as sa

        from iris.accounts.models import User
        from iris.ops.scale import build_scale

        if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
            if kwargs.get("if_empty"):
                click.echo("The database already has data: demo data not loaded again.")
                return None
        else:
            original(**kwargs)
        click.echo(f"Adding {scale:,} certificates at scale ...")
        report = build_scale(
            scale, password=kwargs["password"], seed=kwargs["seed"], echo=click.echo
        )
        rows = sum(report.counts.values())
        click.echo(
            f"Added {report.certificates:,} certificates ({rows:,} rows) in {report.seconds:.0f} s."
        )
        from iris.oversight.operations import refresh_summary  # the dashboard's figures

        summary = refresh_summary()
        db.session.commit()
        click.echo(f"Oversight dashboard figures computed in {summary.seconds:.1f} s.")
        click.echo("Audit company staff at scale (same password):")
        for role, email, org in report.logins[:12]:
            click.echo(f"  {email:<40} {role:<22} {org}")
        if len(report.logins) > 12:
            click.echo(f"  ... and {len(report.logins) - 12} more (scale-NNN-<role>@example.com)")
        return None

    demo.callback = callback
    demo.params.append(
        click.Option(
            ["--scale"],
            type=click.IntRange(min=1),
            default=None,
            help="Add N certificates (up to 1,000,000 and more) with their agencies, "
            "applications, cases, histories and registry entries, in bulk.",
        )
    )


@click.group("backup")
def backup() -> None:
    """Back up or restore the database, the file storage and the signing keys."""


@backup.command("create")
@click.argument("directory", type=click.Path(file_okay=False))
def create(directory: str) -> None:
    """Write a backup into DIRECTORY (new or empty), with a manifest of sha256 sums."""
    from iris.ops.backup import BackupError, create_backup

    try:
        result = create_backup(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    m = result.manifest
    rows = sum(m["tables"].values())
    click.echo(
        f"Backup written to {result.directory}: {m['database']['dialect']} database "
        f"({len(m['tables'])} tables, {rows} rows), {m['storage_files']} stored files, "
        f"{m['key_files']} key files; {result.files} files listed in manifest.json."
    )


@backup.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def restore(directory: str) -> None:
    """Restore DIRECTORY into the configured (empty) database, storage and key directories."""
    from iris.ops.backup import BackupError, restore_backup

    try:
        report = restore_backup(directory)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Restored {sum(report.tables.values())} rows in {len(report.tables)} tables. "
        f"Checked {report.records_checked} transition records in {report.chains} chains, "
        f"{report.files_checked} stored files, {report.references_checked} file references "
        f"and {report.credentials_checked} signed certificates."
    )
    if not report.ok:
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(f"the restored data has {len(report.problems)} problem(s)")
    click.echo("Everything restored matches the backup.")


@click.command("outbox")
@click.option("--deliver", is_flag=True, help="Send every due message now (as the worker does).")
def outbox(deliver: bool) -> None:
    """Show the outboxes (mail, webhooks) by status; optionally deliver what is due."""
    from flask import current_app

    from iris.core import outbox as core_outbox

    if deliver:
        report = core_outbox.deliver_all_due(current_app.config)
        click.echo(
            f"Sent {len(report.sent)}, retrying later {len(report.retrying)}, "
            f"given up {len(report.failed)}."
        )
    for table, by_status in core_outbox.counts(db.session()).items():
        summary = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items())) or "empty"
        click.echo(f"{table}: {summary}")


@click.command("periodic")
def periodic() -> None:
    """What the scheduler runs, once: timer transitions, reminders, due deliveries.

    For installations without Redis: run it from cron every few minutes.
    """
    from flask import current_app

    from iris.core import outbox as core_outbox
    from iris.core.worker import run_tick

    result = run_tick()
    report = core_outbox.deliver_all_due(current_app.config)
    click.echo(
        f"{result['fired']} time-based transition(s) fired, {result['failed']} failed; "
        f"{result['reminders']} reminder(s) queued; {len(report.sent)} message(s) delivered, "
        f"{len(report.retrying)} to retry, {len(report.failed)} given up."
    )
    if result["failed"]:
        raise SystemExit(1)
