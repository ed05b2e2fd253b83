"""API routes of meter jobs: /api/jobs/ and the job actions under /api/meters/{id}/."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from meters.jobs.api import views

app_name = "jobs-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("jobs", views.JobViewSet, basename="job")

urlpatterns = [
    path("meters/<int:meter_pk>/read/", views.MeterReadView.as_view(), name="meter-read"),
    path("meters/<int:meter_pk>/write/", views.MeterWriteView.as_view(), name="meter-write"),
    path("meters/<int:meter_pk>/jobs/", views.MeterJobSubmitView.as_view(), name="meter-jobs"),
    *router.urls,
]
