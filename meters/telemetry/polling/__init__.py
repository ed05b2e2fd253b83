"""Polling Modbus meters: one cycle of one gateway's bus, by the owner of its claim.

The package's face: ``gateway_poll`` runs a cycle (and, on the same bus session, the bus's
other work such as meter jobs), ``gateways_due`` says which gateways have due meters, and the
result types and helpers the dial-in listener and the ``poll`` command use.
"""

from meters.telemetry.polling.cycle import gateway_poll, gateways_due, poll_budget_s
from meters.telemetry.polling.reads import meter_read, meters_read, meters_read_on
from meters.telemetry.polling.results import (
    CLAIM_MARGIN_S,
    MAX_BACKOFF_S,
    POLLED_KINDS,
    MeterResult,
    PollError,
    PollReport,
)
from meters.telemetry.polling.store import poll_results_store

__all__ = ["CLAIM_MARGIN_S", "MAX_BACKOFF_S", "POLLED_KINDS", "MeterResult", "PollError",
           "PollReport", "gateway_poll", "gateways_due", "meter_read", "meters_read",
           "meters_read_on", "poll_budget_s", "poll_results_store"]
