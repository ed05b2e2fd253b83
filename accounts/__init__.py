"""Logging in and resetting passwords, throttled: lockouts per account and per address."""
