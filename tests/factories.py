"""factory_boy factories for the inventory; every meter gets a legal, unique code."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from kpm37.metercode import make_meter_code
from meters.choices import GatewayKind, TransportKind
from meters.models import Gateway, Label, Meter, Site, Tenant

MAX_SERIAL = 9999


def meter_code(n: int, communication: str = "0") -> str:
    """The ``n``-th test code (0-based); past 9999 serials the production year steps back."""
    fold, serial = divmod(n, MAX_SERIAL)
    return make_meter_code(communication=communication, year=24 - fold, month=6,
                           serial=serial + 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def _save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Site {n}")
    timezone = "Europe/Vienna"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    account = factory.Sequence(lambda n: f"ACC-{n:05d}")
    site = factory.SubFactory(SiteFactory)


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"label-{n}")


class GatewayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Gateway
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"gw-{n}")
    kind = GatewayKind.MODBUS_TCP
    host = "127.0.0.1"
    port = factory.Sequence(lambda n: 15020 + n)
    site = factory.SubFactory(SiteFactory)


class MeterFactory(factory.django.DjangoModelFactory):
    """A Modbus meter on its own gateway at address 1; pass ``gateway``/``address`` to share."""

    class Meta:
        model = Meter
        skip_postgeneration_save = True

    code = factory.Sequence(meter_code)
    profile = "kpm37"
    transport = TransportKind.MODBUS
    gateway = factory.SubFactory(GatewayFactory)
    address = factory.Sequence(lambda n: n % 247 + 1)
    site = factory.SelfAttribute("gateway.site")
    tenant = factory.SubFactory(TenantFactory, site=factory.SelfAttribute("..site"))
    ct_ratio = Decimal("1.0")
    pt_ratio = Decimal("1.0")

    class Params:
        mqtt = factory.Trait(
            transport=TransportKind.MQTT, gateway=None, address=None,
            code=factory.Sequence(lambda n: meter_code(n, communication="2")),
            site=factory.SubFactory(SiteFactory),
        )

    @factory.post_generation
    def labels(self, create: bool, extracted: list[Label] | None, **kwargs: object) -> None:
        if create and extracted:
            self.labels.set(extracted)
