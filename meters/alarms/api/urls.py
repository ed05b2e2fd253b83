"""API routes of meters.alarms: /api/alarms/, /api/alarm-channels/, /api/notifications/."""

from rest_framework.routers import DefaultRouter

from meters.alarms.api import views

app_name = "alarms-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("alarms", views.AlarmViewSet, basename="alarm")
router.register("alarm-channels", views.NotificationChannelViewSet, basename="channel")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
