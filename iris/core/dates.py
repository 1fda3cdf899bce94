"""Calendar arithmetic for deadlines given in months or years (DOMAIN.md §5)."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import TypeVar

D = TypeVar("D", date, datetime)


def add_months(when: D, months: int) -> D:
    """``when`` moved by ``months`` calendar months; the day is clipped to the month's end
    (31 January + 1 month = 28 or 29 February)."""
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def add_years(when: D, years: int) -> D:
    return add_months(when, 12 * years)
