"""The 13-character Compere meter code: ``MMM P C YY M N SSSS``.

A meter whose code is illegal shows "Err" on its display; we refuse such a code with the reason,
so an inventory never holds a meter the device itself would not recognise.
"""

from __future__ import annotations

from dataclasses import dataclass

MODELS = {"307": "KPM37", "33B": "KPM33B"}
MODEL_CHARACTERS = {"307": "0", "33B": "5"}
PLATFORMS = {"0": "China", "1": "abroad"}
COMMUNICATIONS = {"0": "RS485", "1": "4G", "2": "WiFi", "3": "LoRa", "4": "Profibus-DP"}
MONTH_CHARS = "123456789ABC"
CODE_LENGTH = 13


class MeterCodeError(ValueError):
    """The code is not a legal Compere meter code; ``reason`` says which part is wrong."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"meter code {code!r}: {reason}")


@dataclass(frozen=True)
class MeterCode:
    """A decoded meter code."""

    code: str
    model: str
    platform: str
    communication: str
    year: int
    month: int
    serial: int


def _check(ok: bool, code: str, reason: str) -> None:
    if not ok:
        raise MeterCodeError(code, reason)


def decode_meter_code(raw: str) -> MeterCode:
    """Decode and validate a meter code, raising :class:`MeterCodeError` with the reason."""
    code = (raw or "").strip().upper()
    _check(len(code) == CODE_LENGTH, code, f"must be {CODE_LENGTH} characters, got {len(code)}")
    model, platform, comm = code[0:3], code[3], code[4]
    year, month, model_char, serial = code[5:7], code[7], code[8], code[9:13]
    _check(model in MODELS, code, f"unknown model {model!r} (307 = KPM37, 33B = KPM33B)")
    _check(platform in PLATFORMS, code, f"platform must be 0 or 1, got {platform!r}")
    _check(comm in COMMUNICATIONS, code, f"communication must be 0-4, got {comm!r}")
    _check(year.isdigit(), code, f"year must be two digits, got {year!r}")
    _check(month in MONTH_CHARS, code, f"month must be 1-9 or A-C, got {month!r}")
    expected_char = MODEL_CHARACTERS[model]
    _check(model_char == expected_char, code,
           f"model character must be {expected_char} for {MODELS[model]}, got {model_char!r}")
    _check(serial.isdigit() and serial != "0000", code,
           f"serial must be 0001-9999, got {serial!r}")
    return MeterCode(
        code=code,
        model=MODELS[model],
        platform=PLATFORMS[platform],
        communication=COMMUNICATIONS[comm],
        year=2000 + int(year),
        month=MONTH_CHARS.index(month) + 1,
        serial=int(serial),
    )


def make_meter_code(*, model: str = "307", platform: str = "1", communication: str = "0",
                    year: int = 25, month: int = 1, serial: int = 1) -> str:
    """Build a legal code (simulator, demo and tests)."""
    code = (f"{model}{platform}{communication}{year % 100:02d}{MONTH_CHARS[month - 1]}"
            f"{MODEL_CHARACTERS[model]}{serial:04d}")
    decode_meter_code(code)
    return code
