"""Page routes of tariffs: the plan list and the editor."""

from django.urls import path

from tariffs import tou_views, views

app_name = "tariffs"
urlpatterns = [
    path("", views.plan_list, name="plan-list"),
    path("new/", views.plan_editor, name="plan-new"),
    path("<int:pk>/", views.plan_editor, name="plan-editor"),
    path("<int:pk>/export/", views.plan_export, name="plan-export"),
    path("<int:pk>/assign/", views.plan_assign, name="plan-assign"),
    path("<int:pk>/program/", tou_views.plan_program, name="plan-program"),
    path("meters/<int:pk>/tou/", tou_views.meter_tou, name="meter-tou"),
    path("fleet-tou/", tou_views.fleet_tou, name="fleet-tou"),
    path("<int:pk>/delete/", views.plan_delete, name="plan-delete"),
    path("editor/check/", views.plan_check, name="plan-check"),
    path("editor/rows/", views.plan_rows, name="plan-rows"),
    path("editor/import/", views.plan_import, name="plan-import"),
]
