"""Login (throttled, each role landing on its own page) and password reset (rate limited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views

from accounts.forms import RateLimitedPasswordResetForm, ThrottledAuthenticationForm
from meters.roles import landing_page


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm

    def get_success_url(self) -> str:
        target = self.get_redirect_url()
        return target if target not in ("", "/") else landing_page(self.request.user)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = RateLimitedPasswordResetForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}
