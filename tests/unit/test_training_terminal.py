"""A box in training mode never asks the card terminal to pay, whatever is configured."""

from __future__ import annotations

import socket

from appliance.config import Payment
from appliance.core.payment import PaymentOutcome
from appliance.devices.payment.factory import open_terminal
from appliance.devices.payment.training import TrainingTerminal


def test_training_mode_approves_without_touching_the_configured_terminal() -> None:
    with socket.socket() as listener:  # a "real terminal" that counts who connects
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        host, port = listener.getsockname()
        settings = Payment(terminal="caisse-ap", address=f"{host}:{port}")
        terminal = open_terminal(settings, training=True)
        assert isinstance(terminal, TrainingTerminal)
        first = terminal.pay(1250, "attempt-1")
        second = terminal.pay(300, "attempt-2")
        try:
            listener.accept()
            connected = True
        except TimeoutError:
            connected = False
    assert not connected
    assert (first.outcome, first.amount_cents) == (PaymentOutcome.APPROVED, 1250)
    assert (first.authorisation, second.authorisation) == ("FORMATION-1", "FORMATION-2")
    assert "no card was charged" in first.message


def test_a_live_box_gets_its_configured_terminal() -> None:
    settings = Payment(terminal="caisse-ap", address="127.0.0.1:9")
    assert not isinstance(open_terminal(settings), TrainingTerminal)
    assert open_terminal(Payment(terminal="none"), training=True) is None
