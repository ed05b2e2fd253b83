"""The one place where a service's error becomes an API error (REST_FRAMEWORK's handler).

Services raise Django's ValidationError naming each field (and PermissionDenied); views let
them through, and this handler answers 400 with ``{"field": ["reason"]}`` (``non_field_errors``
when no field is named), as DRF's own validation does. DRF already turns Django's
PermissionDenied into 403 and Http404 into 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler


def as_api_error(exc: DjangoValidationError) -> ValidationError:
    """A model/service ValidationError as a 400 naming each field."""
    if hasattr(exc, "error_dict"):
        return ValidationError(exc.message_dict)
    return ValidationError({"non_field_errors": exc.messages})


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, after turning a service's ValidationError into DRF's."""
    if isinstance(exc, DjangoValidationError):
        exc = as_api_error(exc)
    return exception_handler(exc, context)
