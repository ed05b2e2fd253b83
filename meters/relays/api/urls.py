"""API routes of relay control."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from meters.relays.api import views

app_name = "relays-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("relay-groups", views.RelayGroupViewSet, basename="relay-group")

urlpatterns = [
    path("meters/<int:meter_pk>/relay/", views.MeterRelayView.as_view(), name="meter-relay"),
    *router.urls,
]
