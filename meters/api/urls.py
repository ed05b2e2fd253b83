"""API routes of the inventory: /api/sites/, tenants/, labels/, gateways/, meters/."""

from rest_framework.routers import DefaultRouter

from meters.api import views

app_name = "meters-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sites", views.SiteViewSet, basename="site")
router.register("tenants", views.TenantViewSet, basename="tenant")
router.register("labels", views.LabelViewSet, basename="label")
router.register("gateways", views.GatewayViewSet, basename="gateway")
router.register("meters", views.MeterViewSet, basename="meter")

urlpatterns = router.urls
