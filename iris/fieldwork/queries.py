"""Reading the audit: who may see what, the criteria to assess, scores, the auditor queue.

Access, in one place:

- :func:`case_roles` — the user's relation to a case: ``team`` (on the audit team),
  ``confirmed`` (a team member who confirmed the conflict-of-interest declaration),
  ``planner``, ``reviewer`` (technical reviewer of the company), ``decider`` (decision
  maker of the company), ``agency`` (a member of the audited agency).
- :func:`can_see_case` — anyone with a relation; others get 404 (an auditor not on the
  team does not learn that the case exists).
- :func:`can_see_content` — the answers, evidence, ratings and findings: the team (once
  confirmed), the company's technical reviewer and decision maker.
- :func:`can_see_interviews` — the team (once confirmed) and the company's decision maker
  only; never the agency, never the technical reviewer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from iris.accounts.models import Organisation, User
from iris.admin.models import AdminAction, AdminActionKind
from iris.audits.models import (
    ACTION_GRADES,
    CertificationCase,
    Finding,
    FindingStatus,
    TeamMember,
)
from iris.core.db import db
from iris.fieldwork.models import (
    CriterionAssessment,
    Fieldwork,
    FindingEvent,
    InformationRequest,
    Rating,
    SiteVisit,
    WorkerInterview,
)
from workflows.certification import CaseState
from workflows.roles import Role

AGENCY_ROLES = frozenset({Role.AGENCY_ADMIN, Role.AGENCY_MEMBER})
CLOSED_FINDING = (FindingStatus.PLAN_ACCEPTED, FindingStatus.VERIFIED_CLOSED)
#: states in which the team records the audit
RECORDING_STATES = (CaseState.STAGE1, CaseState.STAGE2)


# --------------------------------------------------------------------------- access


def case_roles(user: Any, case: CertificationCase) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    out: set[str] = set()
    for m in case.team:
        if m.user_id == user.id:
            out.add("team")
            if m.coi_confirmed_at is not None:
                out.add("confirmed")
            if m.team_role.value == "lead":
                out.add("lead")
    company = user.roles_in(case.audit_company_id)
    if Role.PLANNER in company:
        out.add("planner")
    if Role.TECHNICAL_REVIEWER in company:
        out.add("reviewer")
    if Role.DECISION_MAKER in company:
        out.add("decider")
    if user.roles_in(case.agency_id) & AGENCY_ROLES:
        out.add("agency")
    return out


def can_see_case(user: Any, case: CertificationCase) -> bool:
    return bool(case_roles(user, case))


def can_see_content(user: Any, case: CertificationCase) -> bool:
    return bool(case_roles(user, case) & {"confirmed", "reviewer", "decider"})


def can_see_interviews(user: Any, case: CertificationCase) -> bool:
    return bool(case_roles(user, case) & {"confirmed", "decider"})


def can_record(user: Any, case: CertificationCase) -> bool:
    """Rate criteria, record visits and interviews, raise findings: the confirmed team."""
    return "confirmed" in case_roles(user, case) and case.state in RECORDING_STATES


def is_agency_side(user: Any, case: CertificationCase) -> bool:
    return "agency" in case_roles(user, case)


def case_by_public_id(public_id: str) -> CertificationCase | None:
    return db.session.scalar(
        sa.select(CertificationCase)
        .where(CertificationCase.public_id == public_id)
        .options(selectinload(CertificationCase.team).selectinload(TeamMember.user))
    )


# --------------------------------------------------------------------------- questionnaire


def response_of(case: CertificationCase) -> Any | None:
    """The self-assessment of the case's application (None for follow-up audits)."""
    if case.application_id is None:
        return None
    from iris.questionnaires.models import Response

    return db.session.scalar(
        sa.select(Response)
        .where(Response.application_id == case.application_id)
        .options(selectinload(Response.links))
    )


def definition_of(case: CertificationCase, response: Any | None = None) -> Any | None:
    """The questionnaire version the audit assesses against: the response's own version,
    else the newest published one (follow-up audits); None when nothing is published."""
    if response is None:
        response = response_of(case)
    if response is not None:
        return response.definition
    from iris.questionnaires.operations import latest_published

    version = latest_published()
    return version.parsed if version is not None else None


@dataclass(frozen=True)
class CriterionRow:
    section: str
    code: str
    title: Any  # {locale: text}


def criteria_of(definition: Any | None) -> list[CriterionRow]:
    if definition is None:
        return []
    return [CriterionRow(s.code, c.code, c.title) for s in definition.sections for c in s.criteria]


def assessments_of(case_id: int) -> dict[str, CriterionAssessment]:
    rows = db.session.scalars(
        sa.select(CriterionAssessment)
        .where(CriterionAssessment.case_id == case_id)
        .options(selectinload(CriterionAssessment.documents))
    )
    return {a.criterion: a for a in rows}


def fieldwork_of(case: CertificationCase) -> Fieldwork | None:
    return db.session.get(Fieldwork, case.id)


# --------------------------------------------------------------------------- guards


def criteria_gaps(case: CertificationCase) -> list[str]:
    """Criteria of the case's questionnaire version not yet rated."""
    rated = set(
        db.session.scalars(
            sa.select(CriterionAssessment.criterion).where(CriterionAssessment.case_id == case.id)
        )
    )
    return [c.code for c in criteria_of(definition_of(case)) if c.code not in rated]


def workers_placed(agency_id: int) -> int:
    from iris.agencies.models import Corridor

    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Corridor.workers_per_year), 0)).where(
            Corridor.organisation_id == agency_id
        )
    )
    return int(total or 0)


def sampling_minimum(workers: int) -> int:
    """Interviews needed: the square root of the workers placed a year, rounded up, within
    ``IRIS_INTERVIEW_MIN`` and ``IRIS_INTERVIEW_MAX`` (none when nobody was placed)."""
    if workers <= 0:
        return 0
    low = int(current_app.config["IRIS_INTERVIEW_MIN"])
    high = int(current_app.config["IRIS_INTERVIEW_MAX"])
    return max(low, min(high, math.ceil(math.sqrt(workers))))


def interview_count(case_id: int) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(WorkerInterview.id)).where(WorkerInterview.case_id == case_id)
        )
        or 0
    )


def interview_gaps(case: CertificationCase) -> list[str]:
    from flask_babel import gettext as _

    gaps: list[str] = []
    needed = sampling_minimum(workers_placed(case.agency_id))
    done = interview_count(case.id)
    if done < needed:
        gaps.append(
            _(
                "%(done)d of the %(needed)d worker interviews required for the workers placed",
                done=done,
                needed=needed,
            )
        )
    visits = db.session.scalar(
        sa.select(sa.func.count(SiteVisit.id)).where(SiteVisit.case_id == case.id)
    )
    if not visits:
        gaps.append(_("no site visit recorded"))
    return gaps


# --------------------------------------------------------------------------- scores


def rating_points() -> dict[Rating, float | None]:
    """Points per rating from ``IRIS_AUDIT_POINTS`` ("conforming:1,observation:1,...");
    "not applicable" is always excluded."""
    raw = str(current_app.config["IRIS_AUDIT_POINTS"])
    points: dict[Rating, float | None] = {Rating.NOT_APPLICABLE: None}
    for part in raw.split(","):
        name, _sep, value = part.partition(":")
        if name.strip() in Rating.__members__.values() and value.strip():
            points[Rating(name.strip())] = float(value)
    for r in Rating:
        points.setdefault(r, 0.0)
    return points


@dataclass
class PrincipleScore:
    code: str
    title: Any
    declared: float | None  # the agency's self-assessment
    verified: float | None  # the audit's ratings
    rated: int = 0
    total: int = 0

    @property
    def gap(self) -> float | None:
        if self.declared is None or self.verified is None:
            return None
        return self.declared - self.verified


@dataclass
class Scores:
    principles: list[PrincipleScore] = field(default_factory=list)
    declared: float | None = None
    verified: float | None = None


def scores(
    definition: Any | None, response: Any | None, assessments: dict[str, CriterionAssessment]
) -> Scores:
    """Audit score per principle (mean points of its rated, applicable criteria) and overall
    (mean over every rated, applicable criterion), beside the self-assessment's."""
    out = Scores()
    if definition is None:
        return out
    points = rating_points()
    declared = response.score if response is not None else None
    earned = counted = 0.0
    for s in definition.sections:
        sec_points = [
            points[assessments[c.code].rating] for c in s.criteria if c.code in assessments
        ]
        applicable = [p for p in sec_points if p is not None]
        verified = sum(applicable) / len(applicable) if applicable else None
        earned += sum(applicable)
        counted += len(applicable)
        decl = None
        if declared is not None:
            try:
                decl = declared.section(s.code).score
            except StopIteration:
                decl = None
        out.principles.append(
            PrincipleScore(s.code, s.title, decl, verified, len(sec_points), len(s.criteria))
        )
    out.verified = earned / counted if counted else None
    out.declared = declared.overall if declared is not None else None
    return out


# --------------------------------------------------------------------------- findings


def is_overdue(finding: Finding, now: datetime) -> bool:
    return (
        finding.grade in ACTION_GRADES
        and finding.due_at is not None
        and finding.due_at < now
        and finding.status not in CLOSED_FINDING
    )


def findings_of(case_id: int) -> list[Finding]:
    return list(
        db.session.scalars(
            sa.select(Finding).where(Finding.case_id == case_id).order_by(Finding.id)
        )
    )


def finding_events(finding_ids: list[int]) -> dict[int, list[FindingEvent]]:
    out: dict[int, list[FindingEvent]] = {i: [] for i in finding_ids}
    if not finding_ids:
        return out
    rows = db.session.scalars(
        sa.select(FindingEvent)
        .where(FindingEvent.finding_id.in_(finding_ids))
        .options(selectinload(FindingEvent.actor), selectinload(FindingEvent.document))
        .order_by(FindingEvent.id)
    )
    for e in rows:
        out[e.finding_id].append(e)
    return out


def finding_by_public_id(public_id: str) -> Finding | None:
    return db.session.scalar(sa.select(Finding).where(Finding.public_id == public_id))


# --------------------------------------------------------------------------- requests


def threads_of(case_id: int) -> dict[str, list[InformationRequest]]:
    out: dict[str, list[InformationRequest]] = {}
    rows = db.session.scalars(
        sa.select(InformationRequest)
        .where(InformationRequest.case_id == case_id)
        .options(selectinload(InformationRequest.author), selectinload(InformationRequest.document))
        .order_by(InformationRequest.id)
    )
    for r in rows:
        out.setdefault(r.answer_key, []).append(r)
    return out


# --------------------------------------------------------------------------- the queue


@dataclass
class QueueRow:
    case: CertificationCase
    agency_name: str
    next_due: datetime | None
    overdue: int
    my_role: str


@dataclass
class Page:
    rows: list[QueueRow]
    page: int
    pages: int
    #: the number of cases; QUEUE_COUNT_CAP when ``capped`` (there are more)
    total: int
    #: more than QUEUE_COUNT_CAP cases: not counted, ``pages`` is unknown (see ``more``)
    capped: bool = False
    #: (capped) there is a next page
    more: bool = False

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more if self.capped else self.page < self.pages


def _queue_filter(user: Any) -> Any:
    company_ids = [
        m.organisation_id
        for m in user.memberships
        if m.role in (Role.PLANNER, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER)
    ]
    agency_ids = [m.organisation_id for m in user.memberships if m.role in AGENCY_ROLES]
    on_team = sa.select(TeamMember.case_id).where(TeamMember.user_id == user.id)
    cond = CertificationCase.id.in_(on_team)
    if company_ids:
        cond = sa.or_(cond, CertificationCase.audit_company_id.in_(company_ids))
    if agency_ids:  # the agency's own audits
        cond = sa.or_(cond, CertificationCase.agency_id.in_(agency_ids))
    return cond


#: The most cases the queue counts: beyond it the page says "more than 1,000 cases"
QUEUE_COUNT_CAP = 1000


def _queue_roles(user: Any) -> tuple[list[int], list[int], list[int]]:
    """(companies whose every case the user sees, other companies the user belongs to,
    agencies whose cases the user sees): the queue's rule, as :func:`_queue_filter`."""
    company_ids = sorted(
        {
            m.organisation_id
            for m in user.memberships
            if m.role in (Role.PLANNER, Role.TECHNICAL_REVIEWER, Role.DECISION_MAKER)
        }
    )
    member_ids = sorted(
        {m.organisation_id for m in user.memberships if m.role not in AGENCY_ROLES}
        - set(company_ids)
    )
    agency_ids = sorted({m.organisation_id for m in user.memberships if m.role in AGENCY_ROLES})
    return company_ids, member_ids, agency_ids


_NEWEST = (CertificationCase.updated_at.desc(), CertificationCase.id.desc())


def _newest(query: Any, limit: int) -> Any:
    """``query``'s cases, newest activity first, at most ``limit`` (id, updated_at)."""
    return query.order_by(*_NEWEST).limit(limit).subquery()


def my_cases(user: Any, page: int = 1, *, now: datetime) -> Page:
    """The user's cases, newest activity first: 2 queries whatever the number of rows.

    The cases are those of the companies where the user plans, reviews or decides, those
    of the user's audit teams and those of the user's agencies (:func:`_queue_filter`).
    The work per view does not grow with them:

    1. the ids of the user's cases, from the indexes, at most ``QUEUE_COUNT_CAP + 1`` from
       each source (a company's cases, the team memberships, the agencies' cases);
    2. one page of cases with their agency, the user's team role and the open findings
       (due date, overdue count) of **that page's** cases only. With at most
       ``QUEUE_COUNT_CAP`` cases they are counted and sorted; with more, each source is
       read newest first along its index (``ix_certification_cases_company_updated``: a
       company's cases by ``updated_at``) for as many rows as the page needs, and the
       page says "more than 1,000 cases". A team member with more team cases than the cap
       has them read along the index of each company the user belongs to or was removed
       from (the admin log's ``membership_removed``), checking the team: a team is chosen
       among the company's auditors, so no team case is elsewhere (a team row written
       into the database by hand for a company the user never belonged to shows only while
       the user has at most QUEUE_COUNT_CAP team cases).
    """
    size = int(current_app.config["IRIS_PAGE_SIZE"])
    page = max(1, page)
    company_ids, member_ids, agency_ids = _queue_roles(user)
    cap = QUEUE_COUNT_CAP + 1
    # each source along its index, newest first (so the planner walks the index and stops,
    # rather than scanning the table until it has found enough: measured at 1,000,000)
    sources: list[tuple[str, Any]] = [
        ("team", sa.select(TeamMember.case_id.label("id")).where(TeamMember.user_id == user.id)
         .order_by(TeamMember.user_id, TeamMember.case_id))
    ]  # fmt: skip
    for company_id in company_ids:
        sources.append(
            ("company", sa.select(CertificationCase.id)
             .where(CertificationCase.audit_company_id == company_id).order_by(*_NEWEST))
        )  # fmt: skip
    if agency_ids:
        sources.append(
            ("agency", sa.select(CertificationCase.id).where(
                CertificationCase.agency_id.in_(agency_ids)))
        )  # fmt: skip
    # the companies the user was removed from (their team cases stay the user's)
    sources.append(
        ("left", sa.select(AdminAction.organisation_id.label("id")).where(
            AdminAction.user_id == user.id,
            AdminAction.kind == AdminActionKind.MEMBERSHIP_REMOVED,
            AdminAction.organisation_id.is_not(None)))
    )  # fmt: skip
    found: dict[str, list[int]] = {name: [] for name, _ in sources}
    limited = [query.limit(cap).subquery() for _name, query in sources]
    per_source = [0] * len(sources)
    for index, case_id in db.session.execute(
        sa.union_all(*(sa.select(sa.literal(i), sq.c.id) for i, sq in enumerate(limited)))
    ):
        per_source[int(index)] += 1
        found[sources[int(index)][0]].append(int(case_id))
    ids = {i for name, values in found.items() if name != "left" for i in values}
    capped = len(ids) > QUEUE_COUNT_CAP or any(
        n >= cap for (name, _q), n in zip(sources, per_source, strict=True) if name != "left"
    )
    if not capped:
        total = len(ids)
        pages = max(1, math.ceil(total / size))
        page = min(page, pages)
        in_page = (
            sa.select(CertificationCase.id)
            .where(CertificationCase.id.in_(sorted(ids)))
            .order_by(*_NEWEST)
            .offset((page - 1) * size)
            .limit(size)
        )
    else:
        total, pages = QUEUE_COUNT_CAP, page
        need = page * size + 1
        case = sa.select(CertificationCase.id, CertificationCase.updated_at)
        arms = [
            _newest(case.where(CertificationCase.audit_company_id == c), need) for c in company_ids
        ]
        if agency_ids:
            arms.append(_newest(case.where(CertificationCase.agency_id.in_(agency_ids)), need))
        if len(found["team"]) <= QUEUE_COUNT_CAP:
            arms.append(_newest(case.where(CertificationCase.id.in_(found["team"])), need))
        else:
            on_team = (
                sa.select(TeamMember.id)
                .where(TeamMember.case_id == CertificationCase.id, TeamMember.user_id == user.id)
                .scalar_subquery()
            )
            # a team is chosen among the company's auditors, so the user's team cases are in
            # the companies the user belongs to or has left (a removal is logged: "left")
            left = sorted(set(found["left"]) - set(company_ids) - set(member_ids))
            for c in [*member_ids, *left]:
                # the company's cases newest first, each checked for the user's team row;
                # OFFSET 0 keeps PostgreSQL from turning the check into a join with every
                # team row of the user and every case of the company (30 ms at 21,000)
                walk = (
                    sa.select(CertificationCase.id, CertificationCase.updated_at,
                              on_team.label("member"))
                    .where(CertificationCase.audit_company_id == c)
                    .order_by(*_NEWEST)
                    .offset(0)
                    .subquery()
                )  # fmt: skip
                arms.append(
                    sa.select(walk.c.id, walk.c.updated_at)
                    .where(walk.c.member.is_not(None))
                    .limit(need)
                    .subquery()
                )
        union = sa.union(*(sa.select(a.c.id, a.c.updated_at) for a in arms)).subquery()
        in_page = (
            sa.select(union.c.id)
            .order_by(union.c.updated_at.desc(), union.c.id.desc())
            .offset((page - 1) * size)
            .limit(size + 1)
        )
    open_finding = (
        Finding.case_id == CertificationCase.id,
        Finding.grade.in_(ACTION_GRADES),
        Finding.status.not_in(CLOSED_FINDING),
        Finding.due_at.is_not(None),
    )
    next_due = sa.select(sa.func.min(Finding.due_at)).where(*open_finding).scalar_subquery()
    overdue = (
        sa.select(sa.func.count()).where(*open_finding, Finding.due_at < now).scalar_subquery()
    )
    role_of = (
        sa.select(TeamMember.team_role)
        .where(TeamMember.case_id == CertificationCase.id, TeamMember.user_id == user.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(CertificationCase, Organisation.name, next_due, overdue, role_of)
        .join(Organisation, Organisation.id == CertificationCase.agency_id)
        .where(CertificationCase.id.in_(in_page))
        .order_by(*_NEWEST)
    ).all()
    more = len(rows) > size
    out = []
    for case_row, name, due_at, late, team_role in rows[:size]:
        due = due_at
        if case_row.cap_due_at is not None and case_row.state in (
            CaseState.FINDINGS_ISSUED,
            CaseState.CAP_SUBMITTED,
        ):
            due = min(d for d in (due_at, case_row.cap_due_at) if d is not None)
        out.append(
            QueueRow(case_row, name, due, int(late or 0), str(team_role) if team_role else "")
        )
    return Page(out, page, pages, total, capped=capped, more=more)


def company_auditors(company_id: int) -> list[User]:
    """Approved auditors of the company (lead auditors and auditors), with profiles."""
    from iris.accounts.models import AuditorProfile, Membership

    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(AuditorProfile, AuditorProfile.user_id == User.id)
            .where(
                Membership.organisation_id == company_id,
                Membership.role.in_((Role.AUDITOR, Role.LEAD_AUDITOR)),
                AuditorProfile.approved_at.is_not(None),
                User.is_active.is_(True),
            )
            .distinct()
            .order_by(User.name)
        )
    )
