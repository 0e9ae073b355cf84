"""Opening a scale's serial line: a device path or any pyserial URL, with its framing.

Every setting is passed when the port is opened and never changed afterwards: Linux answers
EINVAL when a pty is asked for 7-bit or parity settings alone, and assigning an attribute after
opening re-applies them all. On a pty (simulators, tests) framing does not exist, so EINVAL there
means "framing not applicable"; on a real serial port it is an error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import termios
from collections.abc import Iterator

import serial

from appliance.errors import ScaleUnavailable

#: What pyserial and the OS raise when a port vanishes mid-read (USB cable pulled, pty closed).
PORT_ERRORS = (serial.SerialException, OSError, termios.error)

PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


def parse_framing(framing: str) -> tuple[int, str, float]:
    """'7E1' -> (7, 'E', 1): data bits, parity, stop bits."""
    if (
        len(framing) != 3
        or framing[0] not in "78"
        or framing[1] not in PARITIES
        or framing[2] not in "12"
    ):
        raise ValueError(f"framing {framing!r} is not like 7E1, 7O1 or 8N1")
    return int(framing[0]), PARITIES[framing[1]], int(framing[2])


def open_port(port: str, baud: int, framing: str, timeout_s: float) -> serial.Serial:
    """Open `port` (path or URL) with all settings at once; ScaleUnavailable says why not."""
    bytesize, parity, stopbits = parse_framing(framing)

    def opened(bytesize: int, parity: str, stopbits: float) -> serial.Serial:
        return serial.serial_for_url(
            port,
            baudrate=baud,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout_s,
            write_timeout=timeout_s,
        )

    try:
        try:
            return opened(bytesize, parity, stopbits)
        except PORT_ERRORS as exc:
            # pyserial lets termios.error through raw when tcsetattr refuses the framing.
            if _errno(exc) != errno.EINVAL or not _is_pty(port):
                raise
            return opened(8, serial.PARITY_NONE, serial.STOPBITS_ONE)
    except (*PORT_ERRORS, ValueError) as exc:
        raise ScaleUnavailable(f"cannot open the scale port {port}: {_why(exc)}") from None


@contextlib.contextmanager
def lost_port(port: serial.Serial) -> Iterator[None]:
    """Turn an I/O failure on an open port into ScaleUnavailable naming the port."""
    try:
        yield
    except PORT_ERRORS as exc:
        raise port_lost(port.name or str(port.port), exc) from None


def port_lost(port: str, exc: BaseException) -> ScaleUnavailable:
    """The error for a port that failed after it was opened: nearly always, it went away."""
    if _errno(exc) in (None, errno.EIO, errno.ENXIO, errno.ENODEV):
        why = "the device went away (unplugged, switched off or simulator stopped)"
    else:
        why = _why(exc)
    return ScaleUnavailable(f"lost the scale port {port}: {why}")


def _is_pty(port: str) -> bool:
    try:
        real = os.path.realpath(port)
    except (OSError, ValueError):
        return False
    return real.startswith("/dev/pts/")


def _errno(exc: BaseException) -> int | None:
    """The OS error number, also of a termios.error, which carries it only in its args."""
    if isinstance(exc, termios.error) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return getattr(exc, "errno", None)


def _why(exc: BaseException) -> str:
    code = _errno(exc)
    if code == errno.ENOENT:
        return "no such device: check the cable and [scale] port"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied: add the service user to the dialout group"
    if code == errno.EBUSY:
        return "the port is busy: another program (the kiosk?) is using it"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
