"""CSV import pages: upload -> preview (counts, first rows, every problem) -> confirm -> done.

The import runs synchronously: 10,000 rows validate and save in about 2-3 s on PostgreSQL
(measured in tests/meters/test_csv_import.py), well inside a request, so no job row is needed.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from meters import import_store
from meters.access import role_required
from meters.csv_import import meter_import_validate
from meters.csv_save import ImportRefused, meter_import_apply
from meters.forms import MeterImportForm

TEMPLATE = "meters/import.html"


@role_required(permission="meters.add_meter")
def upload(request: HttpRequest) -> HttpResponse:
    """Show the upload form; on POST validate the file and show the preview."""
    # Bound on every POST, even an empty one: a post without a file must say so.
    form = (MeterImportForm(request.POST, request.FILES) if request.method == "POST"
            else MeterImportForm())
    if request.method != "POST" or not form.is_valid():
        return render(request, TEMPLATE, {"form": form})
    token, path = import_store.keep(form.cleaned_data["file"].chunks())
    plan = meter_import_validate(path=path, user=request.user)
    if not plan.ok:
        import_store.discard(token)
    return render(request, TEMPLATE, {"form": MeterImportForm(), "plan": plan,
                                      "token": token if plan.ok else "",
                                      "file_name": request.FILES["file"].name})


@require_POST
@role_required(permission="meters.add_meter")
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Import the file kept under ``token`` (validated again: the inventory may have changed)."""
    path = import_store.path_of(token)
    if path is None:
        raise Http404("this import was already done or has expired; upload the file again")
    plan = meter_import_validate(path=path, user=request.user)
    try:
        result = meter_import_apply(plan=plan)
    except ImportRefused as exc:
        return render(request, TEMPLATE, {"form": MeterImportForm(), "plan": plan,
                                          "problems": exc.problems})
    import_store.discard(token)
    return render(request, TEMPLATE, {"result": result})
