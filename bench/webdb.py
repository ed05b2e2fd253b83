"""A throwaway database for the web benchmarks, and Django set up on it.

PostgreSQL on loopback when it answers (a fresh database per run, named with the process id so
two runs at once never share one, dropped at the end), else a temporary SQLite file. Settings
are the production ones (``config.settings``) with DEBUG=1 so they load without secrets; query
logging is then switched off again so it weighs on neither side of a comparison.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # runnable as `python bench/NAME.py` from anywhere
    sys.path.insert(0, str(ROOT))

from config import services  # noqa: E402  (Django-free: only sockets and env)

ADMIN_DSN = "host={} port={} user=postgres dbname=postgres"


def _pg_admin(sql: str) -> None:
    import psycopg

    host, port = services.POSTGRES
    with psycopg.connect(ADMIN_DSN.format(host, port), autocommit=True, connect_timeout=5) as c:
        c.execute(sql)


@contextmanager
def throwaway_database(purpose: str) -> Iterator[str]:
    """Set up Django on a fresh, migrated database; yields a line saying which one."""
    tmp = Path(tempfile.mkdtemp(prefix=f"kpmfleet-bench-{purpose}-"))
    pg_name = f"kpmfleet_bench_{purpose}_{os.getpid()}"
    use_pg = services.reachable(services.POSTGRES)
    if use_pg:
        host, port = services.POSTGRES
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        url = f"postgres://postgres@{host}:{port}/{pg_name}"
        described = f"PostgreSQL {host}:{port} database {pg_name} (dropped afterwards)"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        described = f"SQLite {tmp / 'bench.sqlite3'} (PostgreSQL not reachable; removed afterwards)"
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1",
                       "DATABASE_URL": url, "FLEET_VAR_DIR": str(tmp),
                       "ALLOWED_HOSTS": "testserver,localhost"})
    # A plain kill (SIGTERM) would skip the clean-up below: make it unwind like an exception.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        _setup_django()
        yield described
    finally:
        from django.db import connections

        connections.close_all()
        if use_pg:
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def production_env() -> dict[str, str]:
    """Environment for a process the benchmark starts (ingest, worker) on the throwaway
    database, with production settings: DEBUG off, so Django does not keep the text of the
    last 9,000 queries in memory (hundreds of MB for batch inserts: not what production
    weighs), and a throwaway secret key DEBUG off requires."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "DEBUG": "0",
            "SECRET_KEY": f"bench-only-{os.getpid()}-{os.urandom(16).hex()}",
            "ALLOWED_HOSTS": "localhost"}


def _setup_django() -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    # DEBUG keeps every query in memory: production does not, and it would skew time and
    # memory figures. Benchmarks that count queries use CaptureQueriesContext instead.
    settings.DEBUG = False
