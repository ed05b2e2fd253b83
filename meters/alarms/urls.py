"""Page routes of meters.alarms."""

from django.urls import path  # noqa: F401

app_name = "alarms"
urlpatterns: list = []
