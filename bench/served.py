"""What the gunicorn benchmarks share: the app served by gunicorn on a free port, wrk runs
against it, and a wrk script that asks for random certificate numbers.

Used by bench/bench_verify.py and bench/scale.py (run as scripts, so ``bench/`` is on the
path: ``from served import ...``).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(url: str, workdir: Path, env: Mapping[str, str] = {}) -> Iterator[str]:
    """``wsgi:app`` on 2 sync workers against database ``url``, rate limits off; yields the
    base URL once the port answers, stops the server (and its workers) on the way out."""
    port = free_port()
    environ = {
        **os.environ,
        "IRIS_SECRET_KEY": "bench",
        "IRIS_DATABASE_URL": url,
        "IRIS_RATELIMIT_ENABLED": "false",
        "IRIS_SIGNING_KEY_DIR": str(workdir / "keys"),
        **env,
    }
    # An empty config file: the project's gunicorn.conf.py (access log, worker count) is
    # for production; the benchmark sets what it measures on the command line.
    config = workdir / "gunicorn-bench.conf.py"
    config.write_text("")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(config), "-w", "2", "-k", "sync",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=environ, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def verify_script(path: Path, numbers: list[str], *, prefix: str = "/api/v1/certificates/") -> Path:
    """A wrk script asking ``GET <prefix><number>`` for random ``numbers``.

    Each request is formatted once per wrk thread (``init``), and ``request`` picks one:
    formatting it on every call (``wrk.format``) cost wrk 10-20 % of ping's throughput on
    the two cores it shares with the server, a cost of the load generator, not the app."""
    path.write_text(
        "local numbers = {" + ",".join(f'"{n}"' for n in numbers) + "}\n"
        "local requests = {}\n"
        "init = function(args)\n"
        "  math.randomseed(42)\n"
        f"  for i, n in ipairs(numbers) do requests[i] = wrk.format('GET', '{prefix}' .. n) end\n"
        "end\n"
        "request = function()\n"
        "  return requests[math.random(#requests)]\n"
        "end\n"
    )
    return path


def ping_script(path: Path, numbers: list[str]) -> Path:
    """The constant endpoint asked through the same script as :func:`verify_script`
    (``GET /api/v1/ping?n=<number>``; ping ignores the query): the same work for wrk, which
    shares the machine's cores with the server, so the ratio compares the server's work."""
    return verify_script(path, numbers, prefix="/api/v1/ping?n=")


def drain(url: str) -> None:
    """Wait until the previous run's queued requests are served (a slow page leaves up to
    16 behind): ping must answer within 50 ms three times in a row."""
    base = url.split("/", 3)
    ping = f"{base[0]}//{base[2]}/api/v1/ping"
    fast = 0
    deadline = time.monotonic() + 120
    while fast < 3 and time.monotonic() < deadline:
        started = time.perf_counter()
        urllib.request.urlopen(ping, timeout=60).read()
        fast = fast + 1 if time.perf_counter() - started < 0.05 else 0


def wrk(url: str, seconds: int, *, script: Path | None = None, cookie: str = "") -> dict:
    """One wrk run (2 threads, 16 connections) after the queue has drained: requests per
    second, p50 and p99 in ms. Any non-2xx answer stops the benchmark."""
    drain(url)
    cmd = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if script is not None:
        cmd += ["-s", str(script)]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"errors answered by {url}:\n{out}")

    def latency(pct: str) -> float:
        m = re.search(rf"{pct}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m is not None, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}
