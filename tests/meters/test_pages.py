"""Fleet, meter and gateway pages: scoping per role, HTMX partials, constant query counts."""

from __future__ import annotations

from typing import Any

import pytest

from meters.models import Meter
from tests.factories import GatewayFactory, LabelFactory, MeterFactory, SiteFactory, TenantFactory

pytestmark = pytest.mark.django_db


def make_fleet(count: int) -> None:
    site, tenant = SiteFactory(name="Bulk"), TenantFactory(name="Bulk tenant")
    labels = [LabelFactory(name="bulk"), LabelFactory(name="second")]
    gateways = [GatewayFactory(site=site) for _ in range(count // 200 + 1)]
    for n in range(count):
        MeterFactory(gateway=gateways[n // 200], address=n % 200 + 1, site=site, tenant=tenant,
                     labels=labels)


# session, user, role names, page count, status counts, page rows, labels of the page, and the
# user's and its groups' permissions (the menu shows only what the role may open)
FLEET_PAGE_QUERIES = 9


def test_fleet_page_query_count_is_constant(operator: Any, client_as: Any,
                                            django_assert_num_queries: Any) -> None:
    client = client_as(operator)
    make_fleet(10)
    with django_assert_num_queries(FLEET_PAGE_QUERIES):
        assert client.get("/?ordering=-code&label=bulk").status_code == 200
    make_fleet(190)
    assert Meter.objects.count() == 200
    with django_assert_num_queries(FLEET_PAGE_QUERIES):
        page = client.get("/?ordering=-code&label=bulk")
    assert page.content.count(b'href="/meters/') == 50


def test_fleet_page_lists_filters_and_counts(operator: Any, client_as: Any) -> None:
    online = MeterFactory(status="online", tenant=TenantFactory(name="Alpha"))
    offline = MeterFactory(status="offline")
    client = client_as(operator)
    page = client.get("/").content.decode()
    assert online.code in page and offline.code in page
    assert 'id="status-counts"' in page and "visibilityState" in page
    filtered = client.get("/?q=alpha").content.decode()
    assert online.code in filtered and offline.code not in filtered
    assert offline.code in client.get("/?status=offline").content.decode()
    assert online.code not in client.get("/?status=offline").content.decode()


def test_htmx_gets_table_partial_with_out_of_band_counts(operator: Any, client_as: Any) -> None:
    meter = MeterFactory(status="online")
    answer = client_as(operator).get("/?status=online", HTTP_HX_REQUEST="true")
    body = answer.content.decode()
    assert answer.status_code == 200 and "HX-Request" in answer["Vary"]
    assert body.lstrip().startswith('<div id="meter-table">') and meter.code in body
    assert 'hx-swap-oob="true"' in body and "<html" not in body
    counts = client_as(operator).get("/meters/counts/?status=online").content.decode()
    assert 'id="status-counts"' in counts and "<strong>1</strong>" in counts


def test_tenant_viewer_sees_only_its_meters_in_pages(tenant_viewer: Any, tenant: Any,
                                                     client_as: Any) -> None:
    mine, other = MeterFactory(tenant=tenant), MeterFactory()
    client = client_as(tenant_viewer)
    page = client.get("/").content.decode()
    assert mine.code in page and other.code not in page
    assert client.get(f"/meters/{mine.pk}/").status_code == 200
    assert client.get(f"/meters/{other.pk}/").status_code == 404
    assert client.get("/gateways/").status_code == 403
    assert client.get("/import/").status_code == 403


def test_outsider_and_anonymous(outsider: Any, client_as: Any, client: Any) -> None:
    meter = MeterFactory()
    for path in ("/", f"/meters/{meter.pk}/", "/gateways/", "/meters/counts/"):
        assert client_as(outsider).get(path).status_code == 403
        assert client.get(path)["Location"].startswith("/accounts/login/")


def test_meter_page_shows_identity_transport_and_live_section(billing_clerk: Any,
                                                              client_as: Any) -> None:
    meter = MeterFactory(gateway=GatewayFactory(name="bus-m"), address=17)
    body = client_as(billing_clerk).get(f"/meters/{meter.pk}/").content.decode()
    for text in ("KPM37", "RS485", "bus-m", "<dd>17</dd>", meter.tenant.name,
                 f'hx-get="/telemetry/meters/{meter.pk}/live/"', 'hx-trigger="load, every 10s"',
                 f"/api/meters/{meter.pk}/"):
        assert text in body, text
    assert "/alarms/" not in body  # the billing role does not see alarms


def test_gateway_pages(operator: Any, client_as: Any) -> None:
    gateway = GatewayFactory(name="bus-g")
    meter = MeterFactory(gateway=gateway, address=4)
    client = client_as(operator)
    assert "bus-g" in client.get("/gateways/").content.decode()
    detail = client.get(f"/gateways/{gateway.pk}/").content.decode()
    assert meter.code in detail and "1 meter on this bus" in detail


def test_base_layout_navigation(operator: Any, client_as: Any) -> None:
    body = client_as(operator).get("/").content.decode()
    for link in ('href="/alarms/"', 'href="/telemetry/dead-letters/"',
                 'href="/telemetry/unregistered/"', 'href="/api/docs/"',
                 "hx-headers", "vendor/htmx/htmx.min.js"):
        assert link in body, link
