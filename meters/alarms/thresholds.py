"""Alarm thresholds for one meter, in primary-side units.

Until provisioning stores per-meter values, the meter's own factory defaults apply (manual
"parameter setting": Un 220 V, In 5 A, LV 20 %, uV 80 %, oV 120 % of Un, oI 120 % of In,
oL 120 % of Pn, Unb 2 %, Inb 10 %), taken from the profile's register defaults when the profile
has them. Measurements are primary side, so rated values are scaled by the PT and CT ratios.
Residual current and temperature limits are the platform's own: the manual gives none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from kpm37.errors import ProfileError
from kpm37.profile import load_profile

# Keys are the profile's parameter register names, in % of the rated value (or V, A).
MANUAL_DEFAULTS: dict[str, float] = {
    "rated_voltage": 220.0, "rated_current": 5.0,
    "voltage_loss_threshold": 20.0, "under_voltage_threshold": 80.0,
    "over_voltage_threshold": 120.0,
    "over_current_threshold": 120.0, "overload_threshold": 120.0,
    "voltage_unbalance_threshold": 2.0, "current_unbalance_threshold": 10.0,
}
RESIDUAL_CURRENT_LIMIT_MA = 30.0  # the usual personal-protection RCD trip level
TEMPERATURE_LIMIT_C = 70.0  # the meter's own operating limit (manual 1.1: up to +70 °C)


@dataclass(frozen=True)
class Thresholds:
    """Limits in primary-side engineering units."""

    voltage_loss_v: float
    under_voltage_v: float
    over_voltage_v: float
    over_current_a: float
    overload_kw: float
    voltage_unbalance_pct: float
    current_unbalance_pct: float
    residual_current_ma: float = RESIDUAL_CURRENT_LIMIT_MA
    temperature_c: float = TEMPERATURE_LIMIT_C


def profile_defaults(profile_name: str) -> dict[str, float]:
    """Manual defaults, overridden by the profile's register defaults of the same names."""
    values = dict(MANUAL_DEFAULTS)
    try:
        profile = load_profile(profile_name)
    except ProfileError:
        return values
    for name in values:
        if profile.has(name) and profile.register(name).default is not None:
            values[name] = float(profile.register(name).default)
    return values


@cache  # called per stored reading; a fleet has few (profile, PT, CT) combinations
def thresholds_for(*, profile_name: str, pt_ratio: float, ct_ratio: float) -> Thresholds:
    """Thresholds of one meter from its profile defaults and its PT and CT ratios."""
    d = profile_defaults(profile_name)
    un = d["rated_voltage"] * pt_ratio
    rated_in = d["rated_current"] * ct_ratio
    pn_kw = 3 * un * rated_in / 1000
    return Thresholds(
        voltage_loss_v=un * d["voltage_loss_threshold"] / 100,
        under_voltage_v=un * d["under_voltage_threshold"] / 100,
        over_voltage_v=un * d["over_voltage_threshold"] / 100,
        over_current_a=rated_in * d["over_current_threshold"] / 100,
        overload_kw=pn_kw * d["overload_threshold"] / 100,
        voltage_unbalance_pct=d["voltage_unbalance_threshold"],
        current_unbalance_pct=d["current_unbalance_threshold"],
    )
