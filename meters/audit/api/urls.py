"""API routes of the audit trail: /api/audit/ and /api/audit/export/."""

from rest_framework.routers import DefaultRouter

from meters.audit.api.views import AuditRecordViewSet

app_name = "audit-api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("audit", AuditRecordViewSet, basename="audit")

urlpatterns = router.urls
