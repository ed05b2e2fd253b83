"""Forms of the telemetry pages: where an adopted meter belongs."""

from __future__ import annotations

from django import forms

from meters.models import Site, Tenant


class AdoptForm(forms.Form):
    """The adopt form: a site and a tenant by id, each optional but, if given, existing."""

    site = forms.ModelChoiceField(queryset=Site.objects.all(), required=False)
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), required=False)
