"""The reader's time-zone switch (site's zone, their own, or UTC), kept in the session."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from meters.local_time import MODES, SESSION_MINE, SESSION_MODE, is_zone, reader_of


@require_POST
def time_zone_set(request: HttpRequest) -> HttpResponse:
    """Remember how this reader wants times shown; back to the page they came from."""
    mode = request.POST.get("mode", "")
    mine = request.POST.get("mine", "").strip()
    if mode not in MODES:
        messages.error(request, f"time zone: unknown choice {mode!r}; one of {', '.join(MODES)}")
    elif mode == "mine" and not is_zone(mine):
        messages.error(request, f"time zone: unknown time zone {mine!r}")
    else:
        request.session[SESSION_MODE] = mode
        if mode == "mine":
            request.session[SESSION_MINE] = mine
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        # A URL, never a view name: redirect() would try to reverse "x" and raise.
        return HttpResponseRedirect(target)
    return redirect("meters:fleet")


def time_zone_context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the reader's choice and the modes, for the header control."""
    return {"time_reader": reader_of(request), "time_modes": MODES}
