"""Page routes of meter jobs (fragments of the meter page)."""

from django.urls import path

from meters.jobs import views

app_name = "jobs"
urlpatterns = [
    path("meters/<int:pk>/", views.meter_jobs, name="meter-jobs"),
]
