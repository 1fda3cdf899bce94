"""``flask iris demo``: the dashboard's figures of the demo data (the last seeder to change
them; a summary is otherwise made by the scheduler's tick)."""

from __future__ import annotations

from typing import Any


def seed(_ctx: Any) -> None:
    from iris.oversight.operations import refresh_summary

    refresh_summary()
