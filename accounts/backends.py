"""The model backend, refusing any log-in while its name or address is locked out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts import throttle


class ThrottledModelBackend(ModelBackend):
    """As ModelBackend, but a locked-out name or address is refused even with the right password
    (the admin's login, the site's, and any other caller of authenticate())."""

    def authenticate(self, request: Any, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if username is not None and throttle.login_blocked_for(str(username), request):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
