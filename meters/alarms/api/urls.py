"""API routes of meters.alarms."""

urlpatterns: list = []
