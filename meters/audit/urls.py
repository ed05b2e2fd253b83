"""Page routes of the audit trail."""

from django.urls import path

from meters.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_page, name="list"),
    path("export.csv", views.audit_export, name="export"),
]
