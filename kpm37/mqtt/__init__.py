"""Compere MQTT V1.9: protocol (pure), commander and transport (paho-mqtt 2 over asyncio)."""
