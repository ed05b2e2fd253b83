"""Forms of the inventory pages (filters are FilterSets, see filtersets.py)."""

from __future__ import annotations

import math

from django import forms
from django.core.files.uploadedfile import UploadedFile

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MB = 1024 * 1024


def megabytes(size: int, *, up: bool) -> str:
    """``size`` in MB with at most one decimal, rounded up or down: a file refused for being
    over the limit never reads as the limit itself ("20.1 MB", not "20 MB")."""
    tenths = math.ceil(size * 10 / MB) if up else math.floor(size * 10 / MB)
    return f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"


class MeterImportForm(forms.Form):
    """The CSV upload; the file is validated by the import service, not here."""

    file = forms.FileField(label="CSV file", help_text=(
        "UTF-8 CSV with the columns code,profile,transport,gateway,address,site,tenant,"
        "labels,ct_ratio,pt_ratio"))

    def clean_file(self) -> UploadedFile:
        """The upload itself (Django spooled a large one to disk); never read whole here."""
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"the file is {megabytes(upload.size, up=True)} MB; the limit is "
                f"{megabytes(MAX_IMPORT_BYTES, up=False)} MB")
        return upload
