"""API routes of tariffs: /api/tariffs/."""

from rest_framework.routers import DefaultRouter

from tariffs.api import views

app_name = "tariffs-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tariffs", views.TariffPlanViewSet, basename="tariff")

urlpatterns = router.urls
