"""A CAS ECR (type 6) scale: ENQ -> ACK, DC1 -> one weight frame with its BCC.

It builds its frames and BCC itself rather than calling the driver's code, so a misreading of the
protocol cannot hide on both sides.
"""

from __future__ import annotations

from appliance.devices.scales.cas import ACK, DC1, ENQ, EOT, ETX, NAK, SOH, STX
from appliance.devices.scales.simulator.base import Pan, ScaleSimulator


class CasSimulator(ScaleSimulator):
    def __init__(self, pan: Pan, *, interval_g: int = 2, capacity_g: int = 15000) -> None:
        super().__init__(pan, interval_g=interval_g, capacity_g=capacity_g)
        #: How many of the next ENQs are answered NAK (the scale is busy).
        self.busy_enquiries = 0

    def feed(self, data: bytes) -> bytes:
        answers = []
        for byte in data:
            if byte == ENQ[0]:
                if self.busy_enquiries:
                    self.busy_enquiries -= 1
                    answers.append(NAK)
                else:
                    answers.append(ACK)
            elif byte == DC1[0]:
                answers.append(self.weight_frame())
        return b"".join(answers)

    def weight_frame(self) -> bytes:
        shown = self.shown_weight_g()
        status = "U" if self.pan.motion else "S"
        if self.pan.overload or shown > self.capacity_g:
            sign, weight = "F", "FF.FFF"
        else:
            sign = "-" if self.pan.under_zero or shown < 0 else " "
            kilos, grams = divmod(abs(shown), 1000)
            weight = f"{kilos:02d}.{grams:03d}"
        body = (status + sign + weight + "kg").encode("ascii")
        check = 0
        for byte in body:
            check ^= byte
        return SOH + STX + body + bytes([check]) + ETX + EOT

    def corrupt_checksum(self, answer: bytes) -> bytes:
        """A well-formed frame whose BCC is off by one bit; ACK/NAK carry no check."""
        if not answer.startswith(SOH):
            return answer
        return answer[:-3] + bytes([answer[-3] ^ 0x01]) + answer[-2:]
