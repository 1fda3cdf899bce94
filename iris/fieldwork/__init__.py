"""Audit fieldwork: team assignment, the auditor's workspace, assessment, interviews,
findings and corrective actions, requests for information and the audit report."""
