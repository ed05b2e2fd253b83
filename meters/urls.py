"""Page routes of the inventory."""

from django.urls import path

from meters import import_views, time_views, views

app_name = "meters"
urlpatterns = [
    path("", views.fleet, name="fleet"),
    path("meters/counts/", views.status_counts, name="status-counts"),
    path("meters/<int:pk>/", views.meter_detail, name="meter-detail"),
    path("gateways/", views.gateway_list, name="gateway-list"),
    path("gateways/<int:pk>/", views.gateway_detail, name="gateway-detail"),
    path("time-zone/", time_views.time_zone_set, name="time-zone"),
    path("import/template.csv", import_views.template_csv, name="import-template"),
    path("import/", import_views.upload, name="import"),
    path("import/<str:token>/confirm/", import_views.confirm, name="import-confirm"),
]
