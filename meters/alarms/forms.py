"""Forms of the alarms page: the acknowledge comment (same limit as the API's)."""

from __future__ import annotations

from django import forms

COMMENT_MAX = 2000


class AcknowledgeForm(forms.Form):
    """Why an alarm is acknowledged; optional, at most ``COMMENT_MAX`` characters."""

    comment = forms.CharField(required=False, max_length=COMMENT_MAX)
