"""The fleet inventory: sites, tenants, labels, gateways and meters."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from kpm37.metercode import decode_meter_code
from meters.choices import BAUD_RATES, DataFormat, GatewayKind, MeterStatus, TransportKind
from meters.validators import validate_meter_code, validate_profile_name, validate_timezone


class Site(models.Model):
    """A place meters are installed; its time zone is the one its meters' clocks run in."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone],
        help_text="IANA time zone of the meters' clocks, e.g. Europe/Vienna")
    address = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tenant(models.Model):
    """Who is billed for a meter's energy. Tenant viewers see only their tenants' meters."""

    name = models.CharField(max_length=100, unique=True)
    account = models.CharField(max_length=50, blank=True, help_text="Billing account reference")
    email = models.EmailField(blank=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="tenants")
    viewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                     related_name="viewable_tenants")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    """A free label used to group meters for targeting (rollouts, filters)."""

    name = models.SlugField(max_length=50, unique=True)
    colour = models.CharField(max_length=20, default="blue")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Gateway(models.Model):
    """One bus: an RS485 segment behind a gateway, a LoRa receiver, a dial-in listener."""

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, choices=GatewayKind.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True,
                                       validators=[MinValueValidator(1), MaxValueValidator(65535)])
    device = models.CharField(max_length=255, blank=True,
                              help_text="Serial device, e.g. /dev/ttyUSB0")
    baud = models.PositiveIntegerField(choices=BAUD_RATES, default=9600)
    data_format = models.CharField(max_length=3, choices=DataFormat.choices, default=DataFormat.N81)
    timeout_ms = models.PositiveIntegerField(
        default=1000, validators=[MinValueValidator(50), MaxValueValidator(60000)])
    frame_gap_ms = models.PositiveIntegerField(
        default=100, validators=[MaxValueValidator(10000)],
        help_text="Minimum silence between frames (manual 5.1)")
    lora_channel = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(4300), MaxValueValidator(5250)])
    lora_speed = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(7), MaxValueValidator(12)])
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="gateways")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == GatewayKind.SERIAL:
            if not self.device:
                errors["device"] = "a serial gateway needs its device path"
        elif self.kind != GatewayKind.DIAL_IN and not self.host:
            errors["host"] = "this kind of gateway needs a host"
        if self.kind != GatewayKind.SERIAL and not self.port:
            errors["port"] = "this kind of gateway needs a TCP port"
        if self.kind == GatewayKind.LORA:
            if self.lora_channel is None:
                errors["lora_channel"] = "a LoRa gateway needs its channel (4300-5250)"
            if self.lora_speed is None:
                errors["lora_speed"] = "a LoRa gateway needs its speed (07-12)"
        if errors:
            raise ValidationError(errors)


class Meter(models.Model):
    """One KPM37 (or sibling) meter, reached through a gateway or over MQTT."""

    code = models.CharField(max_length=13, unique=True, validators=[validate_meter_code])
    model = models.CharField(max_length=20, editable=False)
    communication = models.CharField(max_length=20, editable=False)
    production_year = models.PositiveSmallIntegerField(editable=False, null=True)
    production_month = models.PositiveSmallIntegerField(editable=False, null=True)
    serial = models.PositiveIntegerField(editable=False, null=True)
    profile = models.CharField(max_length=40, default="kpm37", validators=[validate_profile_name])
    transport = models.CharField(max_length=10, choices=TransportKind.choices)
    gateway = models.ForeignKey(Gateway, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="meters")
    address = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(247)])
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="meters")
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="meters")
    labels = models.ManyToManyField(Label, blank=True, related_name="meters")
    ct_ratio = models.DecimalField(max_digits=7, decimal_places=1, default=Decimal("1.0"),
                                   validators=[MinValueValidator(Decimal("0.1")),
                                               MaxValueValidator(Decimal("6000.0"))])
    pt_ratio = models.DecimalField(max_digits=7, decimal_places=1, default=Decimal("1.0"),
                                   validators=[MinValueValidator(Decimal("0.1")),
                                               MaxValueValidator(Decimal("6000.0"))])
    poll_interval_s = models.PositiveIntegerField(default=300,
                                                  validators=[MinValueValidator(10)])
    shares_bus = models.BooleanField(
        default=True, editable=False,
        help_text="False under a dial-in gateway: each such meter has a link of its own, so "
                  "its address need not be unique on the gateway")
    status = models.CharField(max_length=12, choices=MeterStatus.choices,
                              default=MeterStatus.NEVER_SEEN, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "address"], name="meter_address_unique_per_gateway",
                condition=Q(gateway__isnull=False, shares_bus=True),
                violation_error_message="this address is already used on this gateway"),
            models.CheckConstraint(
                name="meter_transport_fields",
                condition=(Q(transport="modbus", gateway__isnull=False, address__isnull=False)
                           | Q(transport="mqtt", gateway__isnull=True)),
                violation_error_message="a Modbus meter needs a gateway and an address; "
                                        "an MQTT meter has no gateway"),
        ]
        indexes = [models.Index(fields=["site", "status"]), models.Index(fields=["tenant"])]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: object, **kwargs: object) -> None:
        self.fill_decoded_code()
        self.shares_bus = not (self.gateway_id and self.gateway.kind == GatewayKind.DIAL_IN)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.transport == TransportKind.MODBUS:
            if self.gateway_id is None:
                errors["gateway"] = "a Modbus meter needs a gateway"
            if self.address is None:
                errors["address"] = "a Modbus meter needs an address (1-247)"
        elif self.transport == TransportKind.MQTT and self.gateway_id is not None:
            errors["gateway"] = "an MQTT meter does not use a gateway"
        if errors:
            raise ValidationError(errors)

    def fill_decoded_code(self) -> None:
        """Store what the code says (model, communication, production date, serial)."""
        decoded = decode_meter_code(self.code)
        self.code = decoded.code
        self.model = decoded.model
        self.communication = decoded.communication
        self.production_year = decoded.year
        self.production_month = decoded.month
        self.serial = decoded.serial
