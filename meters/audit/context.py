"""Where an action comes from: the web request, a management command or a Celery task.

A context variable holds the current source, so services record it without every caller
passing it down: the middleware sets it for each request, Celery's task signals for each task,
and a process that is neither (``manage.py import_meters``) is described by its command line,
OS user and pid. ``audit_source`` sets one explicitly (tests, long-running loops).
"""

from __future__ import annotations

import contextvars
import getpass
import ipaddress
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from meters.audit.choices import Via

USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Source:
    """Where an action came from; ``request`` gives the user once DRF has authenticated it."""

    via: str
    ip: str | None = None
    user_agent: str = ""
    process: str = ""
    request_id: str = ""
    request: HttpRequest | None = None

    def user(self) -> Any:
        user = getattr(self.request, "user", None)
        return user if getattr(user, "is_authenticated", False) else None


_current: contextvars.ContextVar[Source | None] = contextvars.ContextVar("audit_source",
                                                                        default=None)


@cache
def _process_source() -> Source:
    argv = [os.path.basename(sys.argv[0]), *sys.argv[1:2]] if sys.argv else ["python"]
    via = Via.COMMAND if argv[0] == "manage.py" else Via.SYSTEM
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return Source(via=via, process=f"{' '.join(argv)} (OS user {who}, pid {os.getpid()})"[:200])


def current_source() -> Source:
    """The source of whatever is running now."""
    return _current.get() or _process_source()


@contextmanager
def audit_source(source: Source) -> Iterator[Source]:
    """Run the block with ``source`` as the current source."""
    token = _current.set(source)
    try:
        yield source
    finally:
        _current.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, the one rule for the audit trail and the log-in lockout: the
    peer's, or, when the peer is our own proxy (listed in TRUSTED_PROXY_IPS), the last address
    that proxy appended to X-Forwarded-For (earlier entries are whatever the client claimed)."""
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and peer in settings.TRUSTED_PROXY_IPS:
        return _valid_ip(forwarded.split(",")[-1].strip()) or _valid_ip(peer)
    return _valid_ip(peer)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def request_source(request: HttpRequest) -> Source:
    path = request.path
    via = Via.API if path.startswith("/api/") else Via.ADMIN if path.startswith(
        "/admin/") else Via.PAGE
    agent = request.META.get("HTTP_USER_AGENT", "")
    return Source(via=via, ip=client_ip(request), user_agent=agent[:USER_AGENT_MAX],
                  request_id=uuid.uuid4().hex, request=request)


class AuditContextMiddleware:
    """Makes each request the current audit source (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_source(request_source(request)):
            return self.get_response(request)


_task_tokens: dict[str, contextvars.Token[Source | None]] = {}


def _task_started(task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    base = _process_source()
    name = getattr(task, "name", "task")
    source = replace(base, via=Via.TASK, process=f"task {name} {task_id}"[:200])
    _task_tokens[task_id] = _current.set(source)


def _task_finished(task_id: str = "", **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)


def connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, dispatch_uid="audit.task_started", weak=False)
    task_postrun.connect(_task_finished, dispatch_uid="audit.task_finished", weak=False)
