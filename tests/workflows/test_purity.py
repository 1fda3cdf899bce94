"""The workflow tables are pure data: importing them loads no flask, sqlalchemy or iris."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = (
    "workflows",
    "workflows.base",
    "workflows.roles",
    "workflows.application",
    "workflows.certification",
    "workflows.certificate",
    "workflows.complaint",
    "workflows.appeal",
    "workflows.lifecycles",
)
FORBIDDEN = ("flask", "sqlalchemy", "iris", "flask_sqlalchemy", "transitions", "werkzeug", "jinja2")

PROBE = """
import sys
for name in {modules!r}:
    __import__(name)
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({forbidden!r}))
print(','.join(loaded))
"""


def test_workflow_modules_import_no_framework():
    code = PROBE.format(modules=MODULES, forbidden=FORBIDDEN)
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == "", f"workflows/ imported {out.stdout.strip()}"


def test_probe_detects_a_forbidden_import():
    """The probe itself works: importing a framework is reported."""
    code = PROBE.format(modules=("json", "sqlalchemy"), forbidden=FORBIDDEN)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "sqlalchemy"
