"""meters.telemetry app."""
