"""The production server: gunicorn with gunicorn.conf.py serves the app from the environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.notifications.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_sync_workers_bound_from_the_environment(app, tmp_path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = dict(
        os.environ,
        IRIS_BIND=f"127.0.0.1:{port}",
        IRIS_WEB_WORKERS="2",
        IRIS_SECRET_KEY="gunicorn-test-secret",
        IRIS_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        IRIS_STORAGE_DIR=str(tmp_path / "storage"),
    )
    with open(tmp_path / "gunicorn.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        answer = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    answer = (r.status, json.loads(r.read()))
            except OSError:
                time.sleep(0.2)
        output = (tmp_path / "gunicorn.log").read_text()
        assert answer == (200, {"status": "ok", "database": "ok"}), output
        assert f"Listening at: http://127.0.0.1:{port}" in output
        assert "Using worker: sync" in output
        deadline = time.monotonic() + 10
        while output.count("Booting worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            output = (tmp_path / "gunicorn.log").read_text()
        assert output.count("Booting worker") == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
