"""meters.alarms app."""
