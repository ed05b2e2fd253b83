"""One API under /api/: each app contributes its routes from <app>/api/urls.py.

Telemetry, alarms and jobs come first so their nested meter routes (e.g. /api/meters/{id}/read/)
are matched before the meters router's detail route.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("meters.telemetry.api.urls")),
    path("", include("meters.alarms.api.urls")),
    path("", include("meters.jobs.api.urls")),
    path("", include("meters.audit.api.urls")),
    path("", include("meters.relays.api.urls")),
    path("", include("meters.api.urls")),
    path("", include("tariffs.api.urls")),
]
