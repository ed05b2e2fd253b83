"""Seed the demo fleet: sites, tenants, labels, gateways on the simulator's ports, meters whose
codes match the simulator's (kpm37.simulator.codes), and one user per role.

Idempotent: running it again updates the same rows (new ports, new password) instead of adding.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import cycle

from django.contrib.auth.models import Group, User
from django.db import transaction

from kpm37.simulator.codes import modbus_meter_code, mqtt_meter_code, round_robin
from meters.choices import GatewayKind, TransportKind
from meters.models import Gateway, Label, Meter, Site, Tenant
from meters.roles import ADMIN, BILLING, OPERATOR, TENANT_VIEWER, sync_roles

GATEWAY_PREFIX = "demo-gw-"
DEMO_POLL_INTERVAL_S = 60  # brisk, so the demo's pages move while someone watches

# Gateways and MQTT meters take these sites round robin (kpm37.simulator.codes.round_robin), and
# the simulator is told the same time zones in the same order, so meter clocks match their site.
SITES = [
    ("Vienna Depot", "Europe/Vienna", "Erdberger Lände 26, 1030 Wien"),
    ("Shanghai Works", "Asia/Shanghai", "88 Keyuan Road, Pudong, Shanghai"),
    ("Chicago Lofts", "America/Chicago", "1200 W Fulton Market, Chicago IL"),
]
LABELS = [("residential", "blue"), ("commercial", "orange"), ("ev-charging", "green")]
# username -> (role group, is_superuser)
DEMO_USERS = {
    "admin": (ADMIN, True),
    "operator": (OPERATOR, False),
    "billing": (BILLING, False),
    "viewer": (TENANT_VIEWER, False),
}


class DemoSeedError(Exception):
    """The demo cannot be seeded into this database as asked; the message says why."""


@dataclass(frozen=True)
class FleetShape:
    """How many simulated gateways and meters the demo has, and where the simulator listens."""

    gateways: int
    meters_per_gateway: int
    mqtt_meters: int
    modbus_host: str
    modbus_port_base: int


@dataclass(frozen=True)
class SeedSummary:
    sites: int
    tenants: int
    gateways: int
    meters: int
    users: list[str]


@transaction.atomic
def demo_fleet_seed(*, shape: FleetShape, password: str) -> SeedSummary:
    """Create or update the whole demo inventory and the role users; return what exists."""
    sites = _seed_sites()
    tenants = _seed_tenants(sites)
    labels = _seed_labels()
    gateways = _seed_gateways(shape, sites)
    meters = _seed_modbus_meters(shape, gateways, tenants, labels)
    meters += _seed_mqtt_meters(shape, sites, tenants, labels)
    users = demo_users_seed(password=password, viewer_tenant=tenants[0])
    return SeedSummary(sites=len(sites), tenants=len(tenants), gateways=len(gateways),
                       meters=meters, users=users)


def _seed_sites() -> list[Site]:
    return [Site.objects.update_or_create(name=name, defaults={"timezone": tz, "address": addr})[0]
            for name, tz, addr in SITES]


def _seed_tenants(sites: list[Site]) -> list[Tenant]:
    tenants = []
    for number, site in enumerate(sites * 2, start=1):
        name = f"{site.name.split()[0]} Tenant {number:02d}"
        tenant, _ = Tenant.objects.update_or_create(name=name, defaults={
            "site": site, "account": f"ACC-{number:05d}", "email": f"tenant{number}@example.com"})
        tenants.append(tenant)
    return tenants


def _seed_labels() -> list[Label]:
    return [Label.objects.update_or_create(name=name, defaults={"colour": colour})[0]
            for name, colour in LABELS]


def _seed_gateways(shape: FleetShape, sites: list[Site]) -> list[Gateway]:
    gateways = []
    for index in range(shape.gateways):
        gateway, _ = Gateway.objects.update_or_create(
            name=f"{GATEWAY_PREFIX}{index + 1}",
            defaults={"kind": GatewayKind.MODBUS_TCP, "host": shape.modbus_host,
                      "port": shape.modbus_port_base + index, "site": round_robin(index, sites),
                      "enabled": True})
        gateway.full_clean()
        gateways.append(gateway)
    # A smaller demo than last time: the simulator no longer serves those gateways.
    Gateway.objects.filter(name__startswith=GATEWAY_PREFIX).exclude(
        pk__in=[g.pk for g in gateways]).update(enabled=False)
    return gateways


def _site_tenants(site: Site, tenants: list[Tenant]) -> list[Tenant]:
    return [tenant for tenant in tenants if tenant.site_id == site.pk]


def _seed_modbus_meters(shape: FleetShape, gateways: list[Gateway], tenants: list[Tenant],
                        labels: list[Label]) -> int:
    label_cycle = cycle(labels)
    for g, gateway in enumerate(gateways):
        assert gateway.site is not None
        tenant_cycle = cycle(_site_tenants(gateway.site, tenants))
        for address in range(1, shape.meters_per_gateway + 1):
            code = modbus_meter_code(g, address, shape.meters_per_gateway)
            _save_meter(code, {"transport": TransportKind.MODBUS, "gateway": gateway,
                               "address": address, "site": gateway.site,
                               "tenant": next(tenant_cycle)}, next(label_cycle))
    return len(gateways) * shape.meters_per_gateway


def _seed_mqtt_meters(shape: FleetShape, sites: list[Site], tenants: list[Tenant],
                      labels: list[Label]) -> int:
    for index in range(shape.mqtt_meters):
        site = round_robin(index, sites)
        tenant = _site_tenants(site, tenants)[index % 2]
        _save_meter(mqtt_meter_code(index), {"transport": TransportKind.MQTT, "gateway": None,
                                             "address": None, "site": site, "tenant": tenant},
                    labels[index % len(labels)])
    return shape.mqtt_meters


def _save_meter(code: str, fields: dict[str, object], label: Label) -> None:
    if fields["gateway"] is not None:
        _refuse_taken_slot(code, fields["gateway"], fields["address"])
    meter, _ = Meter.objects.update_or_create(
        code=code, defaults={**fields, "poll_interval_s": DEMO_POLL_INTERVAL_S})
    meter.labels.set([label])


def _refuse_taken_slot(code: str, gateway: object, address: object) -> None:
    # Codes follow the fleet's shape, so a differently shaped earlier demo holds other codes
    # at the same addresses; moving them silently would scramble that fleet's history.
    other = Meter.objects.filter(gateway=gateway, address=address).exclude(code=code).first()
    if other is not None:
        raise DemoSeedError(f"{gateway} address {address} already holds meter {other.code} from a "
                            "demo of another shape: keep the earlier FLEET_DEMO_* sizes or start "
                            "from an empty database (delete var/fleet.sqlite3)")


def demo_users_seed(*, password: str, viewer_tenant: Tenant) -> list[str]:
    """One user per role, all with ``password``; the viewer sees ``viewer_tenant``'s meters."""
    sync_roles()
    for username, (group_name, superuser) in DEMO_USERS.items():
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = superuser
        user.email = f"{username}@example.com"
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=group_name)[0]])
    viewer_tenant.viewers.add(User.objects.get(username="viewer"))
    return list(DEMO_USERS)
