"""What a scale is, whatever protocol it speaks (gpiozero style: the device, then its driver).

A driver owns an open pyserial port (a tty, a pty, or any pyserial URL such as socket://) and
turns bytes into `Reading`s. Rules every driver keeps (metrology reference §5.2 rule 12):

- a timeout, a garbled frame or a failed checksum yields TIMEOUT or ERROR, never the previous
  weight;
- reads block on the port with a timeout, they never busy-poll;
- the driver does not judge readings (minimum load, one weighing per item): `core.weighing` does,
  unless the scale itself judges them (Dialog 06 errors 21 and 30).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import serial

from appliance.core.weighing import Reading

if TYPE_CHECKING:
    from appliance import config


@dataclass(frozen=True)
class Article:
    """What a price-computing scale is told before weighing: unit price per kg, tare, text."""

    unit_price_cents: int
    tare_g: int = 0
    text: str = ""


class Scale(ABC):
    """A scale on an open serial port."""

    #: Protocol name as written in config ([scale] protocol) and on the command line.
    protocol: ClassVar[str]
    default_baud: ClassVar[int] = 9600
    #: Data bits, parity and stop bits, as in "7E1".
    default_framing: ClassVar[str]
    #: True when the scale computes the price and the kiosk must take it unchanged.
    computes_price: ClassVar[bool] = False

    def __init__(self, port: serial.Serial, *, interval_g: int = 1) -> None:
        self.port = port
        self.interval_g = interval_g

    @classmethod
    def from_settings(cls, port: serial.Serial, settings: config.Scale) -> Scale:
        """The driver on an open `port`, with what it needs from [scale]; override to take more."""
        return cls(port, interval_g=settings.interval_g)

    @abstractmethod
    def read(self) -> Reading:
        """Ask for one reading and return it; never the previous weight on a fault."""

    def set_article(self, article: Article) -> None:  # noqa: B027 - optional for most protocols
        """Tell a price-computing scale the unit price (and tare, text); others ignore it."""

    def zero(self) -> None:
        """Zero the scale (only takes effect when stable, within its zero range)."""
        raise NotImplementedError(f"{self.protocol} has no zero command")

    def tare(self, preset_g: int | None = None) -> None:
        """Tare the load on the pan, or set a preset tare in grams."""
        raise NotImplementedError(f"{self.protocol} has no tare command")

    def clear_tare(self) -> None:
        raise NotImplementedError(f"{self.protocol} has no clear-tare command")

    @classmethod
    @abstractmethod
    def probe(cls, port: serial.Serial) -> bool:
        """Does a scale of this protocol answer on `port`? Uses only a safe, non-changing query."""

    def close(self) -> None:
        self.port.close()
