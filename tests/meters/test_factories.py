"""Factories build valid inventory rows with legal, decoded meter codes."""

from __future__ import annotations

import pytest

from kpm37.metercode import decode_meter_code
from meters.choices import TransportKind
from tests.factories import GatewayFactory, LabelFactory, MeterFactory, meter_code


@pytest.mark.django_db
def test_meter_factory_makes_decoded_modbus_and_mqtt_meters() -> None:
    gateway = GatewayFactory()
    meters = [MeterFactory(gateway=gateway, address=a, labels=[LabelFactory()]) for a in (1, 2)]
    mqtt = MeterFactory(mqtt=True)
    assert meters[0].model == "KPM37" and meters[0].serial is not None
    assert meters[1].labels.count() == 1
    assert mqtt.transport == TransportKind.MQTT and mqtt.gateway is None
    assert mqtt.communication == "WiFi"


def test_meter_codes_stay_legal_and_unique_past_9999() -> None:
    codes = [meter_code(n) for n in (0, 9998, 9999, 20000)]
    assert len(set(codes)) == 4
    for code in codes:
        decode_meter_code(code)
