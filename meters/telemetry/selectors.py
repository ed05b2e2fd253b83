"""Telemetry reads: history, latest state, dead letters, unregistered meters, the fleet board."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from kpm37.quantities import QUANTITIES
from meters import names
from meters.alarms.choices import AlarmState
from meters.alarms.models import Alarm
from meters.alarms.selectors import alarm_list, open_alarm_counts
from meters.models import Meter
from meters.roles import is_fleet_wide, may_see_alarms
from meters.selectors import meter_status_counts, meters_visible_to
from meters.telemetry.choices import DeadLetterKind
from meters.telemetry.models import (
    DeadLetter,
    LatestState,
    PollRun,
    PollState,
    Reading,
    UnregisteredMeter,
)


def reading_list(*, meter: Meter) -> QuerySet[Reading]:
    """A meter's history, newest first (the (meter, time) index serves it)."""
    return Reading.objects.filter(meter=meter).order_by("-time")


def latest_of(meter: Meter) -> dict[str, dict[str, Any]]:
    """Every quantity the meter last reported, each with its own time (empty if never)."""
    state = LatestState.objects.filter(meter=meter).values_list("values", flat=True).first()
    return dict(state or {})


def live_panel(meter: Meter) -> list[tuple[str, list[dict[str, Any]]]]:
    """The latest state grouped by kind for the live panel: [(kind, [{name, label, ...}])]."""
    latest = latest_of(meter)
    groups: dict[str, list[dict[str, Any]]] = {}
    for name, held in latest.items():
        quantity = QUANTITIES.get(name)
        kind = quantity.kind if quantity else "other"
        groups.setdefault(kind, []).append({
            "name": name, "label": names.label(name), "unit": names.unit(name),
            "moment": names.as_moment(name, held.get("value")), **held})
    order = ["measurement", "energy", "demand", "temperature", "harmonic", "state", "other"]
    return [(k, sorted(groups[k], key=lambda q: q["name"])) for k in order if k in groups]


def dead_letter_list() -> QuerySet[DeadLetter]:
    """Dead letters, newest first."""
    return DeadLetter.objects.all()


def site_zones_by_code(codes: set[str]) -> dict[str, str]:
    """The site time zone of each meter code that has a site (one query)."""
    return dict(Meter.objects.filter(code__in=codes, site__isnull=False)
                .values_list("code", "site__timezone"))


def dead_letter_counts() -> dict[str, int]:
    """Dead letters per kind, in one query."""
    return dict(DeadLetter.objects.order_by().values_list("kind").annotate(n=Count("id")))


def dead_letter_cards() -> list[dict[str, Any]]:
    """Dead-letter counts as the page's cards: kind (for the filter), its label, the count."""
    labels = dict(DeadLetterKind.choices)
    return [{"kind": kind, "label": labels.get(kind, kind.replace("-", " ").capitalize()),
             "count": n} for kind, n in sorted(dead_letter_counts().items())]


def unregistered_list(*, include_adopted: bool = False) -> QuerySet[UnregisteredMeter]:
    """Codes that sent data without being in the inventory."""
    rows = UnregisteredMeter.objects.select_related("adopted_meter")
    return rows if include_adopted else rows.filter(adopted_meter__isnull=True)


def fleet_board(*, user: Any) -> dict[str, Any]:
    """Counts for the live board: meters by status, open alarms by severity, per gateway."""
    meters = meters_visible_to(user)
    per_gateway = (meters.filter(gateway__isnull=False).order_by("gateway__name")
                   .values("gateway__name", "status").annotate(n=Count("id")))
    gateways: dict[str, dict[str, Any]] = {}
    for row in per_gateway:
        entry = gateways.setdefault(row["gateway__name"], {
            "name": row["gateway__name"], "online": 0, "offline": 0, "data_refused": 0,
            "never_seen": 0})
        entry[row["status"].replace("-", "_")] = row["n"]
    board: dict[str, Any] = {"status": meter_status_counts(meters),
                             "gateways": list(gateways.values())}
    # Each part only for a role that may open the page it summarises: alarms not for billing,
    # the fleet-wide dead letters and unknown codes not for tenant viewers.
    if may_see_alarms(user):
        board["severity"] = open_alarm_counts(alarm_list(user=user))
    if is_fleet_wide(user):
        board["dead_letters"] = DeadLetter.objects.count()
        board["unregistered"] = unregistered_list().count()
    return board


ENERGY_QUANTITIES = ("import_active_energy", "export_active_energy")


def energy_list(*, user: Any) -> QuerySet[Meter]:
    """Visible meters by tenant then code, for the energy page and its API twin."""
    return (meters_visible_to(user).select_related("tenant", "site")
            .order_by("tenant__name", "code"))


def energy_of(meters: list[Meter]) -> list[dict[str, Any]]:
    """Each meter with its latest total energies ({"value", "time"} or None), in one query."""
    latest = dict(LatestState.objects.filter(meter__in=meters).values_list("meter_id", "values"))
    return [{"meter": meter, **{name: latest.get(meter.pk, {}).get(name)
                                for name in ENERGY_QUANTITIES}} for meter in meters]


def meter_problems(meter: Meter) -> dict[str, Any]:
    """What is wrong with a meter for its page: open alarms, refused data, failing polls."""
    from meters.telemetry.baselines import baselines_of, refused_summary

    poll = PollState.objects.filter(meter=meter).first()
    failing = poll if poll is not None and (poll.failures or poll.last_error) else None
    alarms = list(Alarm.objects.filter(meter=meter).exclude(state=AlarmState.CLEARED)
                  .order_by("-last_seen_at"))
    refused = refused_summary(meter)
    return {"open_alarms": alarms, "refused": refused, "poll": poll, "poll_failing": failing,
            "baselines": baselines_of(meter)[:5],
            "any": bool(alarms or refused or failing)}


def gateway_poll_health(gateway_id: int) -> dict[str, Any]:
    """A gateway's recent poll runs and its meters' poll states (failures first)."""
    runs = list(PollRun.objects.filter(gateway_id=gateway_id).order_by("-started_at")[:5])
    states = {s.meter_id: s for s in PollState.objects.filter(meter__gateway_id=gateway_id)}
    return {"runs": runs, "states": states}
