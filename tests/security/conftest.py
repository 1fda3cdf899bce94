"""Fixtures of the security tests: the workflow tests' world (an agency, the scheme manager
and an audit company with every role)."""

from __future__ import annotations

from tests.core.workflow_world import world  # noqa: F401  (fixture)
