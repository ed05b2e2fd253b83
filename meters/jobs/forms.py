"""The meter page's job form: read values or write one, with a reason."""

from __future__ import annotations

import json
from typing import Any

from django import forms


class MeterJobForm(forms.Form):
    """``action`` read (``names``, space-separated; none: the whole configuration) or write
    (``name`` = ``value``, with a ``reason``)."""

    action = forms.ChoiceField(choices=[("read", "Read"), ("write", "Write")])
    names = forms.CharField(required=False, max_length=2000)
    name = forms.CharField(required=False, max_length=64)
    value = forms.CharField(required=False, max_length=200)
    reason = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "write":
            if not data.get("name"):
                self.add_error("name", "name the value to write")
            if not data.get("reason"):
                self.add_error("reason", "a write says why")
        return data

    def kind_and_payload(self) -> tuple[str, dict[str, Any]]:
        data = self.cleaned_data
        if data["action"] == "read":
            return "read", {"names": data.get("names", "").split()}
        try:
            value: Any = json.loads(data["value"])
        except json.JSONDecodeError:
            value = data["value"]
        return "write", {"values": {data["name"]: value}}
