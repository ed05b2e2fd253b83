"""The project's Celery app for integration tests: every Redis key under a per-test prefix.

Workers are started with ``-A tests.integration.celery_app`` so concurrent test runs sharing one
Redis never see each other's queues, unacked messages or results.
"""

from __future__ import annotations

import os

from config.celery import app

PREFIX = os.environ.get("TEST_CELERY_KEYPREFIX", "")
if PREFIX:
    app.conf.broker_transport_options = {"global_keyprefix": PREFIX}
    app.conf.result_backend_transport_options = {"global_keyprefix": PREFIX}
app.conf.worker_enable_remote_control = False  # no pidbox broadcasts shared across runs

__all__ = ["app"]
