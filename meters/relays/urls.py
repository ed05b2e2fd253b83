"""Page routes of relay control."""

from django.urls import path

from meters.relays import views

app_name = "relays"
urlpatterns = [
    path("meters/<int:pk>/", views.meter_relays, name="meter"),
    path("meters/<int:pk>/command/", views.meter_relay_command, name="meter-command"),
    path("meters/<int:pk>/read/", views.meter_relay_read, name="meter-read"),
    path("groups/", views.group_list, name="groups"),
    path("groups/new/", views.group_new, name="group-new"),
    path("groups/<int:pk>/", views.group_detail, name="group-detail"),
    path("groups/<int:pk>/approve/", views.group_decide, {"decision": "approve"},
         name="group-approve"),
    path("groups/<int:pk>/reject/", views.group_decide, {"decision": "reject"},
         name="group-reject"),
]
