"""Choices for the inventory; labels and colours live here so templates never branch on values."""

from django.db import models


class GatewayKind(models.TextChoices):
    MODBUS_TCP = "modbus-tcp", "Modbus TCP gateway"
    RTU_OVER_TCP = "rtu-over-tcp", "RTU over TCP (serial server)"
    LORA = "lora", "LoRa receiver"
    DIAL_IN = "dial-in", "4G/WiFi dial-in listener"
    SERIAL = "serial", "Local serial port"


class DataFormat(models.TextChoices):
    N81 = "8N1", "8 data bits, no parity, 1 stop bit"
    E81 = "8E1", "8 data bits, even parity, 1 stop bit"
    O81 = "8O1", "8 data bits, odd parity, 1 stop bit"


BAUD_RATES = [(b, f"{b} baud") for b in (1200, 2400, 4800, 9600, 19200, 38400)]


class TransportKind(models.TextChoices):
    MODBUS = "modbus", "Modbus via gateway"
    MQTT = "mqtt", "MQTT (Compere V1.9)"


class MeterStatus(models.TextChoices):
    NEVER_SEEN = "never-seen", "Never seen"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    # It speaks, but what it sends is refused (an energy counter went backwards): not Online.
    DATA_REFUSED = "data-refused", "Data refused"

    @property
    def colour(self) -> str:
        return {"never-seen": "grey", "online": "green", "offline": "red",
                "data-refused": "amber"}[self.value]
