"""Certification case: one audit cycle by an audit company (DOMAIN.md §3.2).

Initial audits go through stage 1 and stage 2. Surveillance, recertification and special
audits reuse this machine from ``audit_planned``: they are opened for a certified agency by
the audit company's planner or the scheme manager (``open_followup``), or by the system
when the certificate's schedule says one is due (``open_scheduled``: surveillance
``IRIS_SURVEILLANCE_MONTHS`` after the last decision, recertification
``IRIS_RECERTIFICATION_LEAD_MONTHS`` before expiry), and go straight to the on-site stage
(``start_onsite``, a design addition: ISO/IEC 17021-1 has no stage 1 for them).

The decision of a follow-up audit acts on the certificate in force: a surveillance or
special grant maintains it (and restores a suspended one), a recertification grant issues a
new certificate that supersedes it; a surveillance or special refusal suspends it.
"""

from enum import StrEnum

from workflows.base import N_, NEW, Lifecycle, Transition
from workflows.roles import Role


class CaseState(StrEnum):
    TEAM_PENDING = "team_pending"
    AUDIT_PLANNED = "audit_planned"
    STAGE1 = "stage1"
    STAGE2 = "stage2"
    FINDINGS_ISSUED = "findings_issued"
    CAP_SUBMITTED = "cap_submitted"
    RECOMMENDED = "recommended"
    DECISION_PENDING = "decision_pending"
    CERTIFIED = "certified"
    REFUSED = "refused"
    CLOSED_NOT_CERTIFIED = "closed_not_certified"


class AuditType(StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"
    SPECIAL = "special"


class TeamRole(StrEnum):
    LEAD = "lead"
    AUDITOR = "auditor"


class Recommendation(StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"


S = CaseState
LEAD = frozenset({Role.LEAD_AUDITOR})
DECIDER = frozenset({Role.DECISION_MAKER})

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "open",
        (NEW,),
        S.TEAM_PENDING,
        frozenset({Role.AGENCY_ADMIN}),
        guards=("application_accepted", "audit_company_approved", "no_open_case"),
        label=N_("Choose the audit company"),
        help=N_("Opens the certification case with the chosen approved audit company."),
    ),
    Transition(
        "open_followup",
        (NEW,),
        S.TEAM_PENDING,
        frozenset({Role.PLANNER, Role.SCHEME_ADMIN}),
        guards=("certificate_in_force", "followup_audit_type", "no_open_case"),
        label=N_("Plan a surveillance, recertification or special audit"),
    ),
    Transition(
        "open_scheduled",
        (NEW,),
        S.TEAM_PENDING,
        frozenset({Role.SYSTEM}),
        guards=("certificate_in_force", "followup_audit_type", "followup_due", "no_open_case"),
        timer=True,
        label=N_("Open the audit the certificate's schedule says is due"),
        help=N_("Surveillance after the configured interval; recertification before expiry."),
    ),
    Transition(
        "assign_team",
        (S.TEAM_PENDING,),
        S.AUDIT_PLANNED,
        frozenset({Role.PLANNER}),
        guards=(
            "lead_auditor_assigned",
            "team_trained",
            "team_speaks_languages",
            "team_conflict_free",
        ),
        effects=("record_team",),
        label=N_("Confirm the audit team"),
        help=N_(
            "Each member must be trained, speak the corridor's languages"
            " and have a clean conflict-of-interest declaration."
        ),
    ),
    Transition(
        "start_stage1",
        (S.AUDIT_PLANNED,),
        S.STAGE1,
        LEAD,
        guards=("initial_audit",),
        label=N_("Start stage 1 (document review)"),
        help=N_("Review the policies against the criteria and cross-check the self-assessment."),
    ),
    Transition(
        "not_ready",
        (S.STAGE1,),
        S.AUDIT_PLANNED,
        LEAD,
        reason_required=True,
        label=N_("Not ready: list the readiness gaps"),
        help=N_("Stage 1 found the agency not ready; the audit goes back to planning."),
    ),
    Transition(
        "start_stage2",
        (S.STAGE1,),
        S.STAGE2,
        LEAD,
        label=N_("Ready: start stage 2 (on site)"),
        help=N_("Visit the sites and interview workers, in their languages and in confidence."),
    ),
    Transition(
        "start_onsite",
        (S.AUDIT_PLANNED,),
        S.STAGE2,
        LEAD,
        guards=("followup_audit",),
        label=N_("Start the on-site audit"),
        help=N_("Surveillance, recertification and special audits have no stage 1."),
    ),
    Transition(
        "issue_findings",
        (S.STAGE2,),
        S.FINDINGS_ISSUED,
        LEAD,
        guards=(
            "criteria_assessed",
            "interviews_sampled",
            "findings_need_action",
            "findings_well_formed",
        ),
        effects=("set_cap_due",),
        label=N_("Issue the findings"),
        help=N_("The agency then has the corrective-action deadline to answer every finding."),
    ),
    Transition(
        "submit_cap",
        (S.FINDINGS_ISSUED,),
        S.CAP_SUBMITTED,
        frozenset({Role.AGENCY_ADMIN}),
        guards=("corrective_action_for_every_finding", "before_cap_due"),
        label=N_("Submit the corrective-action plan"),
    ),
    Transition(
        "return_cap",
        (S.CAP_SUBMITTED,),
        S.FINDINGS_ISSUED,
        LEAD,
        reason_required=True,
        label=N_("Return the plan with comments"),
    ),
    Transition(
        "recommend",
        (S.CAP_SUBMITTED,),
        S.RECOMMENDED,
        LEAD,
        guards=(
            "majors_closed_with_evidence",
            "minors_have_accepted_plan",
            "recommendation_given",
        ),
        effects=("record_recommendation",),
        reason_required=True,
        fields=("recommendation",),
        label=N_("Recommend a decision"),
        help=N_("Recommend grant or refuse, with the rationale."),
    ),
    Transition(
        "recommend",
        (S.STAGE2,),
        S.RECOMMENDED,
        LEAD,
        guards=(
            "criteria_assessed",
            "interviews_sampled",
            "no_findings_need_action",
            "recommendation_given",
        ),
        effects=("record_recommendation",),
        reason_required=True,
        fields=("recommendation",),
        label=N_("Recommend a decision"),
        help=N_(
            "No finding needs corrective action: recommend grant or refuse, with the rationale."
        ),
    ),
    Transition(
        "review",
        (S.RECOMMENDED,),
        S.DECISION_PENDING,
        frozenset({Role.TECHNICAL_REVIEWER}),
        guards=("reviewer_not_on_team", "report_complete"),
        effects=("record_technical_reviewer",),
        label=N_("Technical review done: pass to decision"),
    ),
    Transition(
        "grant",
        (S.DECISION_PENDING,),
        S.CERTIFIED,
        DECIDER,
        guards=("four_eyes", "no_open_major_findings"),
        effects=("record_decision", "issue_certificate", "restore_certificate"),
        irreversible=True,
        label=N_("Grant certification"),
        help=N_("Issues the certificate (or maintains or renews it for a follow-up audit)."),
    ),
    Transition(
        "refuse",
        (S.DECISION_PENDING,),
        S.REFUSED,
        DECIDER,
        guards=("four_eyes",),
        effects=("record_decision", "open_appeal_window", "suspend_certificate"),
        reason_required=True,
        irreversible=True,
        label=N_("Refuse certification"),
        help=N_(
            "The agency may appeal within the appeal window. Refusing a surveillance or special"
            " audit suspends the certificate."
        ),
    ),
    Transition(
        "close_overdue",
        (S.FINDINGS_ISSUED, S.CAP_SUBMITTED),
        S.CLOSED_NOT_CERTIFIED,
        frozenset({Role.SYSTEM}),
        guards=("cap_due_passed",),
        timer=True,
        irreversible=True,
        label=N_("Close: corrective-action deadline passed"),
    ),
)

LIFECYCLE = Lifecycle(
    name="certification",
    title=N_("Certification case"),
    states=CaseState,
    transitions=TRANSITIONS,
    state_labels={
        S.TEAM_PENDING: N_("Team pending"),
        S.AUDIT_PLANNED: N_("Audit planned"),
        S.STAGE1: N_("Stage 1"),
        S.STAGE2: N_("Stage 2"),
        S.FINDINGS_ISSUED: N_("Findings issued"),
        S.CAP_SUBMITTED: N_("Corrective actions submitted"),
        S.RECOMMENDED: N_("Recommended"),
        S.DECISION_PENDING: N_("Decision pending"),
        S.CERTIFIED: N_("Certified"),
        S.REFUSED: N_("Refused"),
        S.CLOSED_NOT_CERTIFIED: N_("Closed, not certified"),
    },
)
