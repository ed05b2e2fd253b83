"""Settings for the test suite: PostgreSQL when it answers (always under CI), else SQLite."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from config import services

_use_pg = "DATABASE_URL" not in os.environ and (
    services.required() or services.reachable(services.POSTGRES)
)
if _use_pg:
    host, port = services.POSTGRES
    # FLEET_TEST_DB_NAME lets two checkouts run their suites at once without sharing databases.
    name = os.environ.get("FLEET_TEST_DB_NAME", "kpmfleet")
    os.environ["DATABASE_URL"] = f"postgres://postgres@{host}:{port}/{name}"
elif "DATABASE_URL" not in os.environ and not os.environ.get("PYTEST_XDIST_WORKER"):
    print("kpm-fleet tests: PostgreSQL not reachable, using SQLite and embedded brokers",
          file=sys.stderr)

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast personas
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
