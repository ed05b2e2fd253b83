"""The import's checks against the database, chunk by chunk as the file streams past.

Per chunk of rows: which codes exist already (updates), which gateways exist, which bus
positions are taken (in the inventory or earlier in the file), and whether the importing user
may create the sites, tenants and labels it names. A position held by a meter that the file
itself mentions is no clash (that meter may move), which is only known at the end of the file,
so those checks are settled in ``finish()``.
"""

from __future__ import annotations

from typing import Any

from meters.import_plan import ImportPlan, ImportProblem, gateways_by_name
from meters.models import Label, Meter, Site, Tenant
from meters.rows import MeterRow
from meters.services import unknown_name_reason

Parsed = list[tuple[int, MeterRow, set[str]]]  # line, row, the columns with errors
NAMED = {"site": Site, "tenant": Tenant, "labels": Label}


class DatabaseChecks:
    """Checks one import's rows against the inventory, keeping per-file state small."""

    def __init__(self, plan: ImportPlan, user: Any) -> None:
        self.plan, self.user = plan, user
        self.first_line_of: dict[str, int] = {}
        self.gateways: dict[str, tuple[int, bool] | None] = {}  # name -> (id, dial-in)
        self.held: dict[tuple[int, int], str] = {}
        self.taken: dict[tuple[int, int], int] = {}
        self.deferred: list[tuple[int, str, str]] = []  # line, holder code, where
        self.names: dict[str, dict[str, bool]] = {column: {} for column in NAMED}
        self.site_zones: dict[str, str | None] = {}  # stored sites' zones (None: not stored)
        self.first_zone: dict[str, tuple[int, str]] = {}  # site -> (line, zone) in the file

    def check(self, parsed: Parsed) -> None:
        self._duplicates(parsed)
        codes = {row.code for _, row, errors in parsed if "code" not in errors}
        known = set(Meter.objects.filter(code__in=codes).values_list("code", flat=True))
        self.plan.updates += sum(1 for _, row, _ in parsed if row.code in known)
        self._load_gateways({row.gateway for _, row, _ in parsed if row.gateway})
        for line, row, _ in parsed:
            self._position(line, row)
        self._site_zones(parsed)
        if self.user is not None:
            self._creatable(parsed)

    def finish(self) -> None:
        """Settle the clashes with meters the file did not mention after all."""
        for line, holder, where in self.deferred:
            if holder not in self.first_line_of:
                self.plan.add_problem(ImportProblem(line, "address",
                                                    f"{where} is already used by meter {holder}"))

    def _duplicates(self, parsed: Parsed) -> None:
        for line, row, errors in parsed:
            if "code" in errors:
                continue
            first = self.first_line_of.setdefault(row.code, line)
            if first != line:
                self.plan.add_problem(ImportProblem(
                    line, "code", f"duplicate: meter {row.code} is already on line {first}"))

    def _load_gateways(self, names: set[str]) -> None:
        new = names - self.gateways.keys()
        if not new:
            return
        ids, dial_in = gateways_by_name(new)
        self.gateways.update({name: (ids[name], name in dial_in) if name in ids else None
                              for name in new})
        self.held.update({(gateway_id, address): code for code, gateway_id, address in
                          Meter.objects.filter(gateway_id__in=ids.values()).values_list(
                              "code", "gateway_id", "address")})

    def _position(self, line: int, row: MeterRow) -> None:
        if not row.gateway:
            return
        gateway = self.gateways.get(row.gateway)
        if gateway is None:
            self.plan.add_problem(ImportProblem(
                line, "gateway", f"unknown gateway {row.gateway!r} (gateways must exist first)"))
            return
        gateway_id, own_links = gateway
        if row.address is None or own_links:
            return  # a dial-in meter's unit id may repeat: it has a link of its own
        position, where = (gateway_id, row.address), f"address {row.address} on gateway " \
                                                      f"{row.gateway}"
        holder = self.held.get(position)
        if holder is not None and holder != row.code:
            self.deferred.append((line, holder, where))
        if position in self.taken:
            self.plan.add_problem(ImportProblem(
                line, "address", f"{where} is also given on line {self.taken[position]}"))
        else:
            self.taken[position] = line

    def _site_zones(self, parsed: Parsed) -> None:
        """A site's zone is one: rows must agree, and a stored site keeps the zone it has."""
        zoned = [(line, row) for line, row, _ in parsed if row.timezone]
        new = {row.site for _, row in zoned} - self.site_zones.keys()
        if new:
            stored = dict(Site.objects.filter(name__in=new).values_list("name", "timezone"))
            self.site_zones.update({name: stored.get(name) for name in new})
        for line, row in zoned:
            stored_zone, first = self.site_zones[row.site], self.first_zone.get(row.site)
            if stored_zone is not None and stored_zone != row.timezone:
                self.plan.add_problem(ImportProblem(line, "timezone", (
                    f"site {row.site!r} is in {stored_zone}, not {row.timezone} (change a "
                    "site's zone on its form, not by import)")))
            elif first is not None and first[1] != row.timezone:
                self.plan.add_problem(ImportProblem(line, "timezone", (
                    f"site {row.site!r} is given {first[1]} on line {first[0]}")))
            self.first_zone.setdefault(row.site, (line, row.timezone))

    def _creatable(self, parsed: Parsed) -> None:
        for column, model in NAMED.items():
            if self.user.has_perm(f"meters.add_{model._meta.model_name}"):
                continue
            known = self.names[column]
            wanted = {name for _, row, _ in parsed for name in _names(row, column)}
            new = wanted - known.keys()
            found = set(model.objects.filter(name__in=new).values_list("name", flat=True))
            known.update({name: name in found for name in new})
            for line, row, _ in parsed:
                unknown = {name for name in _names(row, column) if not known[name]}
                if unknown:
                    self.plan.add_problem(ImportProblem(line, column,
                                                        unknown_name_reason(column, unknown)))


def _names(row: MeterRow, column: str) -> tuple[str, ...]:
    if column == "labels":
        return row.labels
    value: str = getattr(row, column)
    return (value,) if value else ()
