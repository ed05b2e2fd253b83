"""Alarm API: list/filter alarms, acknowledge and clear; notification channels and tests."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from meters.alarms import selectors, services
from meters.alarms.api.serializers import (
    AcknowledgeSerializer,
    AlarmSerializer,
    NotificationChannelSerializer,
    NotificationSerializer,
)
from meters.alarms.filtersets import AlarmFilterSet
from meters.alarms.models import Alarm, Notification, NotificationChannel
from meters.api.permissions import AdminOnly, RolePermissions


def _api_error(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class AlarmPermissions(RolePermissions):
    """Reading needs ``view_alarm``; the actions need ``change_alarm`` (operators, admins)."""

    perms_map = {**RolePermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@extend_schema(tags=["alarms"])
class AlarmViewSet(viewsets.ReadOnlyModelViewSet):
    """Alarms on the meters you may see; ``?meter=<code>&state=&severity=&kind=``."""

    serializer_class = AlarmSerializer
    permission_classes = [AlarmPermissions]
    filterset_class = AlarmFilterSet
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Alarm]:
        return selectors.alarm_list(user=self.request.user)

    @extend_schema(request=AcknowledgeSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        """Acknowledge an active alarm, with an optional comment."""
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alarm = services.alarm_acknowledge(alarm=self.get_object(), user=request.user,
                                               comment=body.validated_data.get("comment", ""))
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc
        return Response(AlarmSerializer(alarm).data)

    @extend_schema(request=None, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def clear(self, request: Request, pk: Any = None) -> Response:
        """Clear an open alarm by hand."""
        try:
            alarm = services.alarm_clear(alarm=self.get_object(), user=request.user)
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc
        return Response(AlarmSerializer(alarm).data)


class ChannelTestThrottle(ScopedRateThrottle):
    """The test button's limit per channel, whoever presses it (the user's own is the scope's).
    """

    scope_attr = "channel_test_scope"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs.get("pk", "")}


@extend_schema(tags=["alarms"])
class NotificationChannelViewSet(viewsets.ModelViewSet):
    """E-mail and webhook channels (admins only: they hold secrets and addresses);
    ``POST .../{id}/test/`` sends a test message now, a few times a minute at most."""

    serializer_class = NotificationChannelSerializer
    permission_classes = [AdminOnly, RolePermissions]
    throttle_scope = "channel-test"
    channel_test_scope = "channel-test-channel"

    def get_queryset(self) -> QuerySet[NotificationChannel]:
        return selectors.channel_list(user=self.request.user)

    def get_throttles(self) -> list[Any]:
        if self.action == "send_test":
            return [ScopedRateThrottle(), ChannelTestThrottle()]
        return []

    def perform_create(self, serializer: Any) -> None:
        self._checked(NotificationChannel(**serializer.validated_data))
        services.channel_save(channel=None, save=serializer.save)

    def perform_update(self, serializer: Any) -> None:
        channel = NotificationChannel(pk=serializer.instance.pk, **{
            f: serializer.validated_data.get(f, getattr(serializer.instance, f))
            for f in ("name", "kind", "target", "min_severity", "max_per_hour", "enabled")})
        self._checked(channel)
        services.channel_save(channel=serializer.instance, save=serializer.save)

    def perform_destroy(self, instance: NotificationChannel) -> None:
        services.channel_delete(channel=instance)

    @staticmethod
    def _checked(channel: NotificationChannel) -> None:
        try:
            channel.clean()
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc

    @extend_schema(request=None, responses={200: NotificationSerializer, 429: None})
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request: Request, pk: Any = None) -> Response:
        """Send a test notification now and say whether it was delivered (nothing about what
        answered); limited per user and per channel (429 with Retry-After beyond that)."""
        sent = services.notification_send(channel=self.get_object(), force=True)
        return Response(NotificationSerializer(sent, context=self.get_serializer_context()).data)


@extend_schema(tags=["alarms"])
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The delivery log, newest first: admins see all of it, others only the announcements of
    alarms on meters they may see."""

    serializer_class = NotificationSerializer
    permission_classes = [RolePermissions]
    queryset = Notification.objects.none()  # for the schema and the permission class

    def get_queryset(self) -> QuerySet[Notification]:
        return selectors.notification_list(user=self.request.user)
