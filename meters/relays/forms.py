"""Forms of the relay pages; the rules themselves are the services' (rules.py)."""

from __future__ import annotations

import re

from django import forms

from meters.relays.choices import Action, Output


class RelayCommandForm(forms.Form):
    output = forms.TypedChoiceField(choices=Output.choices, coerce=int)
    action = forms.ChoiceField(choices=Action.choices)
    reason = forms.CharField(max_length=500, min_length=5,
                             help_text="Why: recorded in the audit trail with the command")


class RelayGroupForm(RelayCommandForm):
    label = forms.SlugField(max_length=50, required=False,
                            help_text="Every meter with this label, or:")
    codes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Meter codes, separated by spaces, commas or new lines")
    confirm_count = forms.IntegerField(required=False, min_value=0,
                                       label="Type the number of meters to confirm")

    def code_list(self) -> list[str]:
        return [code for code in re.split(r"[\s,;]+", self.cleaned_data.get("codes") or "")
                if code]
