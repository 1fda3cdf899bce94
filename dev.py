#!/usr/bin/env python3
"""A newcomer's two commands, with nothing but Python 3.11+ installed.

    python3 dev.py serve   set up everything, load demo data, serve on http://127.0.0.1:5000
    python3 dev.py test    set up everything and run the whole test suite

Both create ``.venv`` and install the locked dependencies (requirements.lock) the first time,
and again only when pyproject.toml or the lock change. Extra arguments after ``test`` go to
pytest (``python3 dev.py test -k registry``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
INSTANCE = ROOT / "instance"


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"IRIS Certify needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "requirements.lock").read_bytes()
    ).hexdigest()
    stamp = VENV / ".iris-installed"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing the locked dependencies (first run takes a minute) ...", flush=True)
    run(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", "pip")
    run(
        PY,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-c",
        "requirements.lock",
        "-e",
        ".[dev]",
    )
    stamp.write_text(digest)


def local_env() -> dict[str, str]:
    """Settings of the local demo: a secret generated once into instance/, debug on."""
    INSTANCE.mkdir(exist_ok=True)
    secret_file = INSTANCE / "dev-secret-key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    env = dict(os.environ)
    env.setdefault("IRIS_SECRET_KEY", secret_file.read_text().strip())
    env.setdefault("IRIS_DEBUG", "1")
    env["FLASK_APP"] = "wsgi"
    return env


def serve(args: list[str]) -> None:
    ensure_venv()
    env = local_env()
    flask = BIN / "flask"
    run(flask, "db", "upgrade", env=env)
    run(flask, "iris", "demo", "--if-empty", env=env)
    print("\nIRIS Certify is running at http://127.0.0.1:5000 (Ctrl+C stops it).", flush=True)
    os.execve(str(flask), [str(flask), "run", "--host", "127.0.0.1", "--port", "5000", *args], env)


def test(args: list[str]) -> None:
    ensure_venv()
    os.execv(str(PY), [str(PY), "-m", "pytest", *args])


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
