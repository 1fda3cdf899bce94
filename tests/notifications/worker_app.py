"""The Celery app a worker subprocess runs in the Redis tests.

``celery -A tests.notifications.worker_app worker`` builds the app with the test's
settings (``IRIS_TEST_WORKER_CONFIG``, JSON): the same database, Redis queue and SMTP
server as the test process.
"""

from __future__ import annotations

import json
import os

from iris import create_app
from iris.core.worker import celery_for

flask_app = create_app(json.loads(os.environ["IRIS_TEST_WORKER_CONFIG"]))
celery = celery_for(flask_app)
