"""Forms of the inventory pages (filters are FilterSets, see filtersets.py)."""

from __future__ import annotations

from django import forms

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class MeterImportForm(forms.Form):
    """The CSV upload; the file is validated by the import service, not here."""

    file = forms.FileField(label="CSV file", help_text=(
        "UTF-8 CSV with the columns code,profile,transport,gateway,address,site,tenant,"
        "labels,ct_ratio,pt_ratio"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"the file is {upload.size // 1024 // 1024} MB; the limit is "
                f"{MAX_IMPORT_BYTES // 1024 // 1024} MB")
        data: bytes = upload.read()
        return data
