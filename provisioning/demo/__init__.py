"""The demo: a seeded simulated fleet and an orchestrator that runs every part of the platform."""
