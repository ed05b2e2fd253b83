"""CSV import pages: upload -> preview (counts, first rows, every problem) -> confirm -> done.

The import runs synchronously: 10,000 rows validate and save in about 2-3 s on PostgreSQL
(measured in tests/meters/test_csv_import.py), well inside a request, so no job row is needed.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from kpm37.profile import profile_names
from meters import import_store
from meters.access import role_required
from meters.choices import TransportKind
from meters.csv_import import meter_import_validate
from meters.csv_save import ImportRefused, meter_import_apply
from meters.forms import MeterImportForm
from meters.rows import COLUMNS, OPTIONAL_COLUMNS, POLL_INTERVAL_MAX, POLL_INTERVAL_MIN

TEMPLATE = "meters/import.html"
EXAMPLE_ROWS = [
    "3071025100101,kpm37,modbus,gw-north,1,Vienna plant,Tenant A,floor-1;critical,40,1,60,"
    "Europe/Vienna",
    "3071125100102,kpm37,mqtt,,,Shanghai office,Tenant B,,1,1,,Asia/Shanghai",
]


def _format_help() -> dict[str, object]:
    """What the page says each column takes (from the same lists the parser checks)."""
    return {"columns": ",".join(COLUMNS), "optional_columns": OPTIONAL_COLUMNS,
            "profiles": profile_names(), "transports": TransportKind.choices,
            "default_interval": settings.METER_DEFAULT_POLL_INTERVAL_S,
            "interval_min": POLL_INTERVAL_MIN, "interval_max": POLL_INTERVAL_MAX}


@role_required(permission="meters.add_meter")
def template_csv(request: HttpRequest) -> HttpResponse:
    """A CSV to start from: the header and two example rows (one Modbus, one MQTT meter)."""
    body = "\r\n".join([",".join(COLUMNS), *EXAMPLE_ROWS]) + "\r\n"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="meters-template.csv"'
    return response


@role_required(permission="meters.add_meter")
def upload(request: HttpRequest) -> HttpResponse:
    """Show the upload form; on POST validate the file and show the preview."""
    # Bound on every POST, even an empty one: a post without a file must say so.
    form = (MeterImportForm(request.POST, request.FILES) if request.method == "POST"
            else MeterImportForm())
    if request.method != "POST" or not form.is_valid():
        return render(request, TEMPLATE, {"form": form, **_format_help()})
    token, path = import_store.keep(form.cleaned_data["file"].chunks())
    plan = meter_import_validate(path=path, user=request.user)
    if not plan.ok:
        import_store.discard(token)
    return render(request, TEMPLATE, {"form": MeterImportForm(), "plan": plan,
                                      "token": token if plan.ok else "",
                                      "file_name": request.FILES["file"].name,
                                      **_format_help()})


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
                                          "problems": exc.problems, **_format_help()})
    import_store.discard(token)
    return render(request, TEMPLATE, {"result": result})
