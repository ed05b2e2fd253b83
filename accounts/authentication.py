"""API token authentication that never sends a malformed key to the database."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class TokenKeyAuthentication(TokenAuthentication):
    """DRF's token scheme; a key with a NUL or of the wrong length is refused before the
    lookup (PostgreSQL cannot even compare a NUL: it was a 500)."""

    def authenticate_credentials(self, key: str) -> Any:
        if "\x00" in key or len(key) != 40:
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
