"""Counting failed log-ins and clearing the count after a good one, whatever the login page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from accounts import throttle


@receiver(user_login_failed, dispatch_uid="accounts-count-login-failure")
def count_failure(sender: Any, credentials: dict[str, Any], request: Any = None,
                  **kwargs: Any) -> None:
    per_user, per_ip = throttle.login_limits()
    throttle.count(per_user, str(credentials.get("username", "")))
    throttle.count(per_ip, throttle.client_ip(request))


@receiver(user_logged_in, dispatch_uid="accounts-clear-login-failures")
def clear_failures(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    throttle.clear(throttle.login_limits()[0], user.get_username())
