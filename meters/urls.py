"""Page routes of meters."""

from django.urls import path  # noqa: F401

app_name = "meters"
urlpatterns: list = []
