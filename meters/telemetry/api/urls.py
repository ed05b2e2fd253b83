"""API routes of meters.telemetry."""

urlpatterns: list = []
