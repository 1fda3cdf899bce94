"""Fixtures of the security tests: the workflow tests' world (an agency, the scheme manager
and an audit company with every role), and the registry's lean lookup pointed at the test's
transaction."""

from __future__ import annotations

from tests.core.workflow_world import world  # noqa: F401  (fixture)
from tests.registry.conftest import (  # noqa: F401  (autouse: the registry's lean lookup reads
    _lean_path_sees_the_test_transaction,  # the test's uncommitted data)
)
