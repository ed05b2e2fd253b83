"""Top-level URL map: pages per app, the API under /api/, the admin, and OpenAPI docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("config.api_urls")),
    path("telemetry/", include("meters.telemetry.urls")),
    path("alarms/", include("meters.alarms.urls")),
    path("jobs/", include("meters.jobs.urls")),
    path("tariffs/", include("tariffs.urls")),
    path("audit/", include("meters.audit.urls")),
    path("relays/", include("meters.relays.urls")),
    path("", include("meters.urls")),
]
