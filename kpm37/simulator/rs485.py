"""Wire timing of an RS485 segment: how long frames occupy the bus at a given baud rate."""

from __future__ import annotations

from dataclasses import dataclass

BITS_PER_CHAR = 11  # start + 8 data + parity (or a second stop bit) + stop


@dataclass(frozen=True)
class BusTiming:
    """Timing of one simulated bus: baud, the meter's turnaround, and any radio link delay."""

    baud: int = 9600
    turnaround: float = 0.005
    link_delay: float = 0.0

    def __post_init__(self) -> None:
        if not 300 <= self.baud <= 921600:
            raise ValueError(f"baud: {self.baud} is outside 300-921600")
        if self.turnaround < 0 or self.link_delay < 0:
            raise ValueError("turnaround/link_delay: must not be negative")

    @property
    def char_time(self) -> float:
        """Seconds for one character on the wire."""
        return BITS_PER_CHAR / self.baud

    @property
    def silence(self) -> float:
        """The 3.5-character inter-frame silence (fixed at 1.75 ms above 19200 baud)."""
        return 0.00175 if self.baud > 19200 else 3.5 * self.char_time

    def frame_time(self, nbytes: int) -> float:
        """Seconds one RTU frame of ``nbytes`` holds the bus, including its closing silence."""
        return nbytes * self.char_time + self.silence

    def exchange_time(self, request_bytes: int, response_bytes: int | None) -> float:
        """Bus time of a request and its answer (None: no answer) plus turnaround and link."""
        total = self.frame_time(request_bytes) + self.link_delay
        if response_bytes is not None:
            total += self.turnaround + self.frame_time(response_bytes) + self.link_delay
        return total
