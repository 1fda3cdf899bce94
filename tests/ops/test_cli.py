"""The operator's commands: the scheduler's work on demand, the outbox summary."""

from __future__ import annotations


def test_periodic_runs_the_timers_reminders_and_deliveries(app, committing_db):
    result = app.test_cli_runner().invoke(args=["iris", "periodic"])
    assert result.exit_code == 0, result.output
    assert "time-based transition(s) fired" in result.output
    assert "reminder(s) queued" in result.output
    listing = app.test_cli_runner().invoke(args=["iris", "outbox"])
    assert "outbox_messages: empty" in listing.output
    assert "webhook_deliveries: empty" in listing.output
