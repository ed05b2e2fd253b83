"""API routes of meters.telemetry: readings per meter, dead letters, unregistered meters."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from meters.telemetry.api import baseline_views, overview, views

app_name = "telemetry-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("dead-letters", views.DeadLetterViewSet, basename="dead-letter")
router.register("unregistered-meters", views.UnregisteredMeterViewSet, basename="unregistered")

urlpatterns = [
    path("board/", overview.BoardView.as_view(), name="board"),
    path("energy/", overview.EnergyListView.as_view(), name="energy"),
    path("meters/<int:meter_pk>/readings/", views.ReadingListView.as_view(),
         name="meter-readings"),
    path("quantities/", baseline_views.QuantityListView.as_view(), name="quantities"),
    path("meters/<int:meter_pk>/baselines/", baseline_views.CounterBaselineListView.as_view(),
         name="meter-baselines"),
    *router.urls,
]
