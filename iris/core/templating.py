"""What every template can use: navigation per role, locales, formatting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from iris.core.roles import role_label
from workflows.roles import Role

LOCALE_NAMES = {"en": "English", "pl": "Polski", "uk": "Українська", "ru": "Русский"}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    roles: frozenset[Role] | None = None  # None: every signed-in user


#: The navigation, per role. Items whose endpoint is not registered are skipped, so a
#: feature adds its entry here and it appears once its view exists.
NAV: tuple[NavItem, ...] = (
    NavItem(
        "agencies.profile", _l("Agency profile"), frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER})
    ),
    NavItem(
        "applications.index",
        _l("Applications"),
        frozenset(
            {Role.AGENCY_ADMIN, Role.AGENCY_MEMBER, Role.APPLICATION_REVIEWER, Role.SCHEME_ADMIN}
        ),
    ),
    NavItem(
        "questionnaires.evidence_register",
        _l("Evidence"),
        frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER}),
    ),
    NavItem(
        "audits.my_cases",
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
    ),
    NavItem(
        "complaints.index",
        _l("Complaints"),
        frozenset({Role.SCHEME_ADMIN, Role.APPLICATION_REVIEWER, Role.PLANNER}),
    ),
    NavItem("admin.users", _l("Users"), frozenset({Role.SCHEME_ADMIN})),
    NavItem("admin.organisations", _l("Organisations"), frozenset({Role.SCHEME_ADMIN})),
    NavItem("admin.auditors", _l("Auditors"), frozenset({Role.SCHEME_ADMIN})),
    NavItem("admin.outbox", _l("Outbox"), frozenset({Role.SCHEME_ADMIN})),
    NavItem("workflowui.diagrams", _l("Lifecycles"), frozenset({Role.SCHEME_ADMIN})),
)

PUBLIC_NAV: tuple[NavItem, ...] = (NavItem("registry.search", _l("Registry")),)


def nav_items() -> list[tuple[str, Any, bool]]:
    """(url, label, active) for the current user."""
    views = current_app.view_functions
    items: list[NavItem] = [i for i in PUBLIC_NAV if i.endpoint in views]
    if current_user.is_authenticated:
        roles = current_user.all_roles
        items += [i for i in NAV if i.endpoint in views and (i.roles is None or roles & i.roles)]
    return [(url_for(i.endpoint), i.label, request.endpoint == i.endpoint) for i in items]


def register(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "nav_items": nav_items,
            "locale_names": LOCALE_NAMES,
            "current_locale": str(get_locale() or "en"),
            "locales": app.config["IRIS_LOCALES"],
            "role_label": role_label,
        }

    @app.template_global()
    def has_endpoint(name: str) -> bool:
        return name in current_app.view_functions

    @app.template_global()
    def url_with_lang(lang: str) -> str:
        args = dict(request.view_args or {})
        query = request.args.to_dict()
        query["lang"] = lang
        if request.endpoint and request.method == "GET":
            return url_for(request.endpoint, **args, **query)
        return url_for("main.home", lang=lang)
