"""The audit's own conditions behind the certification guards ``criteria_assessed`` and
``interviews_sampled`` (iris/audits/workflow.py): every criterion rated, the interview
sample met and a site visited. The fieldwork feature keeps those records and their queries;
this module is where the engine's guards find them."""

from iris.fieldwork.queries import criteria_gaps, interview_gaps

__all__ = ["criteria_gaps", "interview_gaps"]
