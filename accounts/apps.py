"""The accounts app: throttled login (pages, admin) and rate-limited password-reset mails."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import forms, signals  # noqa: F401 - connects the failure counters

        admin.site.login_form = forms.ThrottledAdminAuthenticationForm
