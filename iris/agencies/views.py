"""The agency profile: the agency's home page and its sections.

Access: the agency's administrators edit; its members read; a scheme admin reads. Anyone
else gets 404 (an agency's existence is not revealed to another agency's staff).
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from iris.accounts.models import Organisation
from iris.agencies import forms as f
from iris.agencies import operations as ops
from iris.agencies.models import Licence, profile_gap_items
from iris.core import storage
from iris.core.countries import country_name, language_name
from iris.core.db import db, utcnow
from iris.core.permissions import login_required, require, roles_required
from iris.main.forms import EmptyForm
from workflows.roles import OrgKind, Role

bp = Blueprint("agencies", __name__)

AGENCY_ROLES = (Role.AGENCY_ADMIN, Role.AGENCY_MEMBER)


@dataclass(frozen=True)
class Section:
    key: str
    form: type[Any]
    title: Any
    add_title: Any
    edit_title: Any


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            "registrations",
            f.RegistrationForm,
            _l("Registration numbers"),
            _l("Add a registration number"),
            _l("Edit a registration number"),
        ),
        Section(
            "licences", f.LicenceForm, _l("Licences"), _l("Add a licence"), _l("Edit a licence")
        ),
        Section("sites", f.SiteForm, _l("Sites"), _l("Add a site"), _l("Edit a site")),
        Section(
            "corridors",
            f.CorridorForm,
            _l("Corridors"),
            _l("Add a corridor"),
            _l("Edit a corridor"),
        ),
        Section(
            "sub-agents",
            f.SubAgentForm,
            _l("Sub-agents"),
            _l("Add a sub-agent"),
            _l("Edit a sub-agent"),
        ),
    )
}
SECTION_KEYS = ", ".join(f'"{k}"' for k in SECTIONS)


# Template helpers ---------------------------------------------------------------------------
bp.add_app_template_filter(country_name, "country_name")
bp.add_app_template_filter(language_name, "language_name")


@bp.app_template_global()
def service_label(value: str) -> str:
    return f.label_for(f.SERVICE_LABELS, value)


@bp.app_template_global()
def registration_label(value: str, short: bool = False) -> str:
    return f.label_for(f.REGISTRATION_SHORT if short else f.REGISTRATION_LABELS, value)


@bp.app_template_global()
def risk_label(value: str) -> str:
    return f.label_for(f.RISK_LABELS, value)


@bp.app_template_global()
def sector_label(value: str) -> str:
    return f.label_for(f.SECTOR_LABELS, value)


# Access ----------------------------------------------------------------------------------------
def _agency(public_id: str) -> Organisation:
    """The agency, if the current user may read it; 404 otherwise."""
    org = db.first_or_404(
        sa.select(Organisation).where(
            Organisation.public_id == public_id, Organisation.kind == OrgKind.AGENCY
        )
    )
    require(_can_read(org), 404)
    return org


def _can_read(org: Organisation) -> bool:
    return bool(current_user.roles_in(org) & set(AGENCY_ROLES)) or current_user.has_role(
        Role.SCHEME_ADMIN
    )


def _can_edit(org: Organisation) -> bool:
    return Role.AGENCY_ADMIN in current_user.roles_in(org)


def _editable_agency(public_id: str) -> Organisation:
    org = _agency(public_id)
    require(_can_edit(org), 403)
    return org


def _row(org: Organisation, section: str, row_id: str) -> Any:
    model = ops.ROW_MODELS[section]
    return db.first_or_404(
        sa.select(model).where(model.public_id == row_id, model.organisation_id == org.id)
    )


def _profile_url(org: Organisation, anchor: str | None = None) -> str:
    return url_for("agencies.profile", public_id=org.public_id, _anchor=anchor)


def describe_row(row: Any) -> str:
    if isinstance(row, Licence):
        return f"{row.licence_type} {row.number}"
    if hasattr(row, "kind") and hasattr(row, "value"):
        return f"{registration_label(row.kind, short=True)} {row.value}"
    if hasattr(row, "origin_country"):
        return f"{country_name(row.origin_country)} → {country_name(row.destination_country)}"
    return str(row.name)


# Views -------------------------------------------------------------------------------------------
@bp.get("/agency", endpoint="profile")
@bp.get("/agency/<public_id>", endpoint="profile")
@login_required
def profile(public_id: str | None = None):  # type: ignore[no-untyped-def]
    if public_id is None:
        agencies = current_user.orgs_with(*AGENCY_ROLES)
        if len(agencies) == 1:
            public_id = agencies[0].public_id
        elif agencies:
            return render_template(
                "agencies/choose.html", agencies=sorted(agencies, key=lambda o: o.name)
            )
        elif current_user.has_role(Role.SCHEME_ADMIN):
            return redirect(url_for("admin.organisations", kind=OrgKind.AGENCY.value))
        else:
            abort(404)
    org = _agency(public_id)
    return render_template(
        "agencies/profile.html",
        org=org,
        profile=getattr(org, "agency_profile", None),
        gaps=profile_gap_items(org, utcnow().date()),
        today=utcnow().date(),
        can_edit=_can_edit(org),
        is_member=bool(current_user.roles_in(org)),
    )


@bp.route("/agency/<public_id>/details", methods=["GET", "POST"])
@roles_required(Role.AGENCY_ADMIN)
def edit_details(public_id: str):  # type: ignore[no-untyped-def]
    org = _editable_agency(public_id)
    profile = getattr(org, "agency_profile", None)
    data: dict[str, Any] = {
        "name": org.name,
        "country": org.country,
        "city": org.city,
        "address": org.address,
    }
    if profile is not None:
        data.update(
            trade_names="\n".join(profile.trade_names or []),
            postal_code=profile.postal_code,
            website=profile.website,
            staff_count=profile.staff_count,
            services=profile.services,
            preferred_language=profile.preferred_language,
        )
    form = f.DetailsForm(data=data)
    if form.validate_on_submit():
        ops.update_agency_details(org, actor=current_user, **form.profile_data())
        db.session.commit()
        flash(_("The agency's details are saved."), "success")
        return redirect(_profile_url(org, "details"))
    return render_template("agencies/details_form.html", org=org, form=form)


@bp.route(f"/agency/<public_id>/<any({SECTION_KEYS}):section>/new", methods=["GET", "POST"])
@roles_required(Role.AGENCY_ADMIN)
def add_row(public_id: str, section: str):  # type: ignore[no-untyped-def]
    org = _editable_agency(public_id)
    spec = SECTIONS[section]
    form = spec.form()
    if not form.is_submitted() and hasattr(form, "country"):
        form.country.data = org.country
    if form.validate_on_submit():
        try:
            row = ops.add_profile_row(org, section, actor=current_user, **form.row_data())
        except ops.ProfileError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Added: %(what)s.", what=describe_row(row)), "success")
            return redirect(_profile_url(org, section))
    return render_template(
        "agencies/row_form.html", org=org, form=form, section=spec, title=spec.add_title, row=None
    )


@bp.route(
    f"/agency/<public_id>/<any({SECTION_KEYS}):section>/<row_id>/edit", methods=["GET", "POST"]
)
@roles_required(Role.AGENCY_ADMIN)
def edit_row(public_id: str, section: str, row_id: str):  # type: ignore[no-untyped-def]
    org = _editable_agency(public_id)
    row = _row(org, section, row_id)
    spec = SECTIONS[section]
    form = spec.form(obj=row)
    if form.validate_on_submit():
        try:
            ops.update_profile_row(org, row, actor=current_user, **form.row_data())
        except ops.ProfileError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Saved: %(what)s.", what=describe_row(row)), "success")
            return redirect(_profile_url(org, section))
    return render_template(
        "agencies/row_form.html", org=org, form=form, section=spec, title=spec.edit_title, row=row
    )


@bp.route(
    f"/agency/<public_id>/<any({SECTION_KEYS}):section>/<row_id>/remove", methods=["GET", "POST"]
)
@roles_required(Role.AGENCY_ADMIN)
def remove_row(public_id: str, section: str, row_id: str):  # type: ignore[no-untyped-def]
    org = _editable_agency(public_id)
    row = _row(org, section, row_id)
    form = EmptyForm()
    what = describe_row(row)
    if form.validate_on_submit():
        ops.remove_profile_row(org, row, actor=current_user)
        db.session.commit()
        flash(_("Removed: %(what)s.", what=what), "success")
        return redirect(_profile_url(org, section))
    return render_template(
        "agencies/confirm_remove.html",
        org=org,
        form=form,
        what=what,
        section=SECTIONS[section],
        row=row,
    )


@bp.get("/agency/<public_id>/licences/<row_id>/file")
@login_required
def licence_file(public_id: str, row_id: str):  # type: ignore[no-untyped-def]
    org = _agency(public_id)
    licence = _row(org, "licences", row_id)
    require(licence.file_sha256 is not None, 404)
    try:
        data = storage.read_bytes(licence.file_sha256)
    except storage.StorageError:
        abort(
            404, _("The file of this licence is missing from the document store. Upload it again.")
        )
    response = send_file(
        BytesIO(data),
        mimetype=storage.sniff(data) or "application/octet-stream",
        as_attachment=True,
        download_name=licence.file_name or "licence",
        max_age=0,
        etag=licence.file_sha256,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
