"""One family of exceptions whose message tells a person what happened and what to do.

The CLI prints the message on one line and exits with `exit_code`; the kiosk shows a screen.
"""


class ComptoirError(Exception):
    """Base of every error a person can act on."""

    exit_code = 1


class ConfigError(ComptoirError):
    """The configuration is wrong; nothing has been touched yet."""

    exit_code = 2


class UsageError(ComptoirError):
    """A command-line argument is wrong."""

    exit_code = 2


class DeviceUnavailable(ComptoirError):
    """A device does not answer or its port is gone."""


class ScaleUnavailable(DeviceUnavailable):
    """The scale's port cannot be opened or read."""


class PrinterUnavailable(DeviceUnavailable):
    """The printer cannot be reached or reports a fault."""


class StoreError(ComptoirError):
    """The database refused an operation or is corrupt."""
