"""Login and password-reset forms that say clearly when they are throttled."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts import throttle

logger = logging.getLogger(__name__)


class ThrottledLogin:
    """Mixin: refuse before checking the password while the name or address is locked out."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        wait = throttle.login_blocked_for(str(self.cleaned_data.get("username") or ""),
                                          self.request)
        if wait:
            raise forms.ValidationError(
                "Too many failed log-ins for this account or from this address. Log-in is "
                f"locked; try again in {throttle.minutes(wait)}.", code="locked_out")
        return super().clean()  # type: ignore[misc]


class ThrottledAuthenticationForm(ThrottledLogin, AuthenticationForm):
    """The site's login form."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your user name and password did not match. Please try again.",
    }


class ThrottledAdminAuthenticationForm(ThrottledLogin, AdminAuthenticationForm):
    """The admin's login form."""


class RateLimitedPasswordResetForm(PasswordResetForm):
    """Reset mails limited per address asked for and per client address, for every address
    (known or not), so the refusal says nothing about which accounts exist."""

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        per_email, per_ip = throttle.reset_limits()
        address = throttle.client_ip(self.request)
        wait = max(throttle.blocked_for(per_email, email.lower()),
                   throttle.blocked_for(per_ip, address))
        if wait:
            logger.warning("password reset refused (rate limit) for %s from %s", email, address)
            raise forms.ValidationError(
                "Too many password reset requests for this address or from your network; "
                f"try again in {throttle.minutes(wait)}.", code="rate_limited")
        throttle.count(per_email, email.lower())
        throttle.count(per_ip, address)
        return email
