"""Jobs refuse, before anything is sent, what the meter's profile says it would refuse."""

from __future__ import annotations

import pytest

import meters.jobs.builtin_commands  # noqa: F401 - registers the V1.9 command kinds
from kpm37.profile import load_profile
from meters.jobs.kinds import MQTT, PayloadInvalid, get_kind


def test_an_upload_interval_v19_allows_but_the_kpm37_list_does_not_is_refused() -> None:
    kind = get_kind("upload_interval")
    payload = {"level": "second", "value": 600}
    with pytest.raises(PayloadInvalid, match="600"):
        kind.validate(profile=load_profile("kpm37"), payload=payload, transport=MQTT)
    # the KPM33B profile keeps no interval list of its own: V1.9's (with 600 s) applies
    assert kind.validate(profile=load_profile("kpm33b"), payload=payload,
                         transport=MQTT) == payload
    assert kind.validate(profile=load_profile("kpm37"), payload={**payload, "value": 900},
                         transport=MQTT)["value"] == 900
