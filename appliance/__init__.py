"""Comptoir: the software of a self-service farm shop and pickup locker appliance."""

__version__ = "0.1.0"
