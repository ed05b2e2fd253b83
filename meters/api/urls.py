"""API routes of meters."""

urlpatterns: list = []
