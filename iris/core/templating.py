"""What every template can use: navigation per role, locales, formatting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from babel import dates
from flask import Flask, current_app, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from iris.core.labels import label
from iris.core.roles import role_label
from workflows.roles import Role

LOCALE_NAMES = {"en": "English", "pl": "Polski", "uk": "Українська", "ru": "Русский"}


@lru_cache(maxsize=4096)
def _date_in(locale: str, iso: str, fmt: str) -> str:
    """An ISO date in ``locale`` (a plain date: no time zone to apply). Remembered: a list
    shows the same few dates on many rows (Babel's formatting costs ~10 µs a date)."""
    return str(dates.format_date(date.fromisoformat(iso), fmt, locale=locale))


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    roles: frozenset[Role] | None = None  # None: every signed-in user
    description: Any = None


#: The navigation, per role. Items whose endpoint is not registered are skipped, so a
#: feature adds its entry here and it appears once its view exists.
NAV: tuple[NavItem, ...] = (
    NavItem(
        "agencies.profile",
        _l("Agency profile"),
        frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER}),
        _l("Your agency's registration numbers, licences, sites, corridors and sub-agents."),
    ),
    NavItem(
        "applications.index",
        _l("Applications"),
        frozenset(
            {Role.AGENCY_ADMIN, Role.AGENCY_MEMBER, Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN}
        ),
        _l("Applications for certification and where each one stands."),
    ),
    NavItem(
        "questionnaires.evidence_register",
        _l("Evidence"),
        frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER}),
        _l("The documents behind your answers, with their validity dates."),
    ),
    NavItem(
        "fieldwork.my_cases",
        _l("My cases"),
        frozenset(
            {
                Role.PLANNER,
                Role.LEAD_AUDITOR,
                Role.AUDITOR,
                Role.TECHNICAL_REVIEWER,
                Role.DECISION_MAKER,
            }
        ),
        _l("The certification cases assigned to you, with their next due dates."),
    ),
    NavItem(
        "fieldwork.my_cases",
        _l("Audits"),
        frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER}),
        _l("Your audits: findings, corrective actions and the auditors' questions."),
    ),
    NavItem(
        "complaints.index",
        _l("Complaints"),
        frozenset({Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER, Role.PLANNER}),
        _l("Concerns raised by workers and the public, and their investigation."),
    ),
    NavItem(
        "admin.users",
        _l("Users"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("People with an account, their roles, and who may sign in."),
    ),
    NavItem(
        "admin.organisations",
        _l("Organisations"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Agencies and audit companies; approve or suspend audit companies."),
    ),
    NavItem(
        "admin.auditors",
        _l("Auditors"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Auditors' languages, countries and IRIS training; approve auditors."),
    ),
    NavItem(
        "admin.outbox",
        _l("Outbox"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Mail the service has written, when no mail server is configured."),
    ),
    NavItem(
        "workflowui.diagrams",
        _l("Lifecycles"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Every lifecycle's states and transitions, drawn from the code."),
    ),
    NavItem(
        "oversight.dashboard",
        _l("Oversight"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Applications, cases and certificates across the scheme: states, delays, overdue work."),
    ),
    NavItem(
        "privacy.access_log",
        _l("Access log"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Who viewed worker interviews and restricted evidence, and when."),
    ),
    NavItem(
        "notifications.webhooks",
        _l("Webhooks"),
        frozenset({Role.SCHEME_ADMIN}),
        _l("Integrating systems that receive signed certificate events."),
    ),
)

PUBLIC_NAV: tuple[NavItem, ...] = (NavItem("registry.search", _l("Registry")),)


def nav_entries() -> list[NavItem]:
    """The navigation items the current user may use."""
    views = current_app.view_functions
    items: list[NavItem] = [i for i in PUBLIC_NAV if i.endpoint in views]
    if current_user.is_authenticated:
        roles = current_user.all_roles
        items += [i for i in NAV if i.endpoint in views and (i.roles is None or roles & i.roles)]
    return items


def nav_items() -> list[tuple[str, Any, bool]]:
    """(url, label, active) for the current user."""
    return [(url_for(i.endpoint), i.label, request.endpoint == i.endpoint) for i in nav_entries()]


def register(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "nav_items": nav_items,
            "nav_entries": nav_entries,
            "locale_names": LOCALE_NAMES,
            "current_locale": str(get_locale() or "en"),
            "locales": app.config["IRIS_LOCALES"],
            "role_label": role_label,
        }

    @app.template_global()
    def has_endpoint(name: str) -> bool:
        return name in current_app.view_functions

    # ``{{ value|label }}``: a stored code in words (see iris.core.labels)
    app.add_template_filter(label, "label")
    app.add_template_global(label, "label")

    @app.template_filter("isodate")
    def isodate(value: str | None, fmt: str = "medium") -> str:
        """An ISO date string (a stored snapshot's) in the current locale; "" for none."""
        if not value:
            return ""
        return _date_in(str(get_locale() or "en"), str(value)[:10], fmt)

    @app.template_filter("number")
    def number(value: float | int | None, fmt: str | None = None) -> str:
        """A count or figure with the locale's grouping and decimal sign (1 234,5 in pl)."""
        return "" if value is None else str(format_decimal(value, fmt))
