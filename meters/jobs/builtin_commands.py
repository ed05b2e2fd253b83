"""Built-in kinds whose effect is an action: relay, clear_energy, and the V1.9 MQTT commands
COMMOD (upload interval) and RECONFIG.

A relay switch or an energy clear must not happen twice: after an attempt that may have
reached the meter, ``already_done`` reads the meter's state before anything is sent again.
"""

from __future__ import annotations

from typing import Any

from kpm37.errors import ValueOutOfRange
from kpm37.mqtt.protocol import INTERVAL_CHOICES, check_interval
from kpm37.profile import Profile
from meters.jobs.builtin_kinds import jsonable, with_password
from meters.jobs.choices import Priority
from meters.jobs.kinds import (
    MQTT,
    JobContext,
    JobFailed,
    JobKind,
    PayloadInvalid,
    register_kind,
)

ACTIONS = ("close", "open", "pulse")
REMOTE, ALARM = 0, 1
LEVEL, PULSE = 0, 1


class SwitchRelay(JobKind):
    """Close, open or pulse relay output 1 or 2 (Modbus coil write, or V1.9 TELECTRL), then read
    the relay back. The output's modes are read first: an output in alarm mode is refused
    before anything is sent, and an action that does not fit its output mode (a close in pulse
    mode would only pulse; a pulse in level mode would latch) is refused with that reason."""

    name = "relay"
    label = "Switch relay"
    priority = Priority.RELAY
    repeat_safe = False
    default_ttl_s = 10 * 60

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        output, action = payload.get("output"), payload.get("action")
        if output not in (1, 2) or isinstance(output, bool) or not profile.has(f"do{output}"):
            raise PayloadInvalid("output", f"must be a relay output of this meter (1 or 2), "
                                 f"got {output!r}")
        if action not in ACTIONS:
            raise PayloadInvalid("action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
        return {"output": output, "action": action}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        output, action = ctx.payload["output"], ctx.payload["action"]
        relay = f"do{output}"
        modes = await self._modes(ctx, relay)
        if modes.get(f"{relay}_control_mode") == ALARM:
            raise JobFailed(f"{relay}: output {output} is in alarm mode, not remote: "
                            "refused before sending", value=relay)
        mode = modes.get(f"{relay}_output_mode")
        if action == "pulse" and mode == LEVEL:
            raise JobFailed(f"{relay}: output {output} is in level mode; a pulse would leave "
                            f"it closed (set {relay}_output_mode to pulse first)", value=relay)
        if action == "close" and mode == PULSE:
            raise JobFailed(f"{relay}: output {output} is in pulse mode; a close would only "
                            f"pulse (send pulse, or set {relay}_output_mode to level)",
                            value=relay)
        await ctx.device.bus.write_coil(ctx.device.unit, ctx.profile.register(relay).address,
                                        action != "open")
        state = (await ctx.device.read([relay]))[relay]
        if action != "pulse" and bool(state) != (action == "close"):
            raise JobFailed(f"{relay}: read-back differs: wanted "
                            f"{'closed' if action == 'close' else 'open'}, read "
                            f"{'closed' if state else 'open'}", value=relay)
        return {"values": {relay: bool(state), **modes}}

    async def _modes(self, ctx: JobContext, relay: str) -> dict[str, Any]:
        names = [n for n in (f"{relay}_control_mode", f"{relay}_output_mode")
                 if ctx.profile.has(n)]
        return await ctx.device.read(names) if names else {}

    async def already_done(self, ctx: JobContext) -> dict[str, Any] | None:
        relay, action = f"do{ctx.payload['output']}", ctx.payload["action"]
        if action == "pulse":
            raise JobFailed(f"{relay}: an earlier attempt was interrupted after the pulse may "
                            "have been sent; a pulse leaves no state to read, so it is not "
                            "sent again", value=relay)
        state = (await ctx.device.read([relay]))[relay]
        if bool(state) == (action == "close"):
            return {"values": {relay: bool(state)}, "note": "already switched by an earlier "
                    "attempt; not sent again"}
        return None

    def describe(self, payload: dict[str, Any]) -> str:
        return f"{payload.get('action')} relay output {payload.get('output')}"


class ClearEnergy(JobKind):
    """Clear the meter's energy counters (command register, with the password), verified by
    reading the total import energy back as zero."""

    name = "clear_energy"
    label = "Clear energy counters"
    priority = Priority.OPERATOR_WRITE
    repeat_safe = False
    reports_values = False
    command, check = "clear_energy", "import_active_energy"

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        if not (profile.has(self.command) and profile.has(self.check)):
            raise PayloadInvalid("kind", f"profile {profile.name} has no {self.command}")
        return {}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        reg = ctx.profile.register(self.command)
        code = next(iter(reg.choices or {0x5578: "clear"}))
        await ctx.device.write(with_password(ctx.profile, {self.command: code}), verify=False)
        return await self._verify(ctx)

    async def _verify(self, ctx: JobContext) -> dict[str, Any]:
        value = (await ctx.device.read([self.check]))[self.check]
        if abs(float(value or 0)) > 0.01:
            raise JobFailed(f"{self.check}: still {value} after the clear command",
                            value=self.check)
        return {"values": {self.check: value}}

    async def already_done(self, ctx: JobContext) -> dict[str, Any] | None:
        value = (await ctx.device.read([self.check]))[self.check]
        if abs(float(value or 0)) <= 0.01:
            return {"values": {self.check: jsonable(value)},
                    "note": "already cleared by an earlier attempt; not sent again"}
        return None


class UploadInterval(JobKind):
    """V1.9 COMMOD_SET then COMMOD_READ (or only the read, without ``value``)."""

    name = "upload_interval"
    label = "Upload interval (V1.9 COMMOD)"
    transports = (MQTT,)
    reports_values = False

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        level, value = payload.get("level"), payload.get("value")
        if level not in INTERVAL_CHOICES:
            raise PayloadInvalid("level", f"must be 'second' or 'minute', got {level!r}")
        if value is not None:
            try:  # V1.9's list, then the meter's own (the KPM37 has no 600 s)
                check_interval(profile, level, value)
            except ValueOutOfRange as exc:
                raise PayloadInvalid("value", exc.reason) from None
        return {"level": level, "value": value}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        level, value = ctx.payload["level"], ctx.payload.get("value")
        if value is not None:
            await ctx.commander.set_upload_interval(ctx.meter.code, level, value)
        got = await ctx.commander.read_upload_interval(ctx.meter.code, level)
        if value is not None and got != value:
            raise JobFailed(f"{level} interval: read-back differs: set {value}, read {got}",
                            value=f"{level}_interval")
        return {"values": {f"{level}_interval": got}}


class MqttReconfig(JobKind):
    """V1.9 RECONFIG: reset the meter's MQTT settings; done when the meter answers success."""

    name = "mqtt_reconfig"
    label = "Reset MQTT settings (V1.9 RECONFIG)"
    transports = (MQTT,)
    reports_values = False

    def validate(self, *, profile: Profile, payload: dict[str, Any],
                 transport: str) -> dict[str, Any]:
        return {}

    async def run(self, ctx: JobContext) -> dict[str, Any]:
        await ctx.commander.reconfig(ctx.meter.code)
        return {"values": {}}


for _kind in (SwitchRelay(), ClearEnergy(), UploadInterval(), MqttReconfig()):
    register_kind(_kind)
