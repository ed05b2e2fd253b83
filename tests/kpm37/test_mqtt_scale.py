"""Tags whose V1.9 unit differs from the quantity's (ig: A on the wire, mA in the platform)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kpm37.errors import ProfileError
from kpm37.mqtt.meter_side import tags_for
from kpm37.mqtt.payload import parse_message, split_known
from kpm37.mqtt.topics import RT_DATA
from kpm37.profile import load_profile
from kpm37.simulator.meter import SimMeter

PROFILE = load_profile("kpm37")


def test_residual_current_travels_in_amperes_and_arrives_in_milliamperes() -> None:
    meter = SimMeter(PROFILE, code="3071225900001", address=1, seed=4)
    sent_ma = meter.quantities()["residual_current"]
    assert sent_ma > 0.5  # a simulated meter leaks a few mA, far below 1 A
    tags = tags_for(meter, RT_DATA, meter.quantities())
    assert tags["ig"] == pytest.approx(sent_ma / 1000, abs=1e-6)  # amperes on the wire
    payload = json.dumps({"id": meter.code, "time": "20260301120000", "isend": "1", **tags})
    message = parse_message(payload.encode(), RT_DATA)
    values, _unknown = split_known(RT_DATA, message.unknown, PROFILE.mqtt, PROFILE.mqtt_scale)
    assert values["residual_current"] == pytest.approx(sent_ma, rel=1e-4)
    assert values["voltage_a"] == pytest.approx(tags["ua"])  # unscaled tags pass unchanged


@pytest.mark.parametrize("factor", [0, -1000, "a lot", True])
def test_a_scale_factor_must_be_a_positive_number(tmp_path: Path, factor: object) -> None:
    source = (Path(__file__).parents[2] / "kpm37" / "profiles" / "kpm37.yaml").read_text()
    broken = source.replace("  ig: 1000.0   #", f"  ig: {json.dumps(factor)}   #", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    with pytest.raises(ProfileError, match="mqtt_scale 'ig': factor must be a positive number"):
        load_profile(path)
