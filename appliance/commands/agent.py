"""`comptoir agent`: the box's link to the fleet broker, marketplace sync and telemetry, and the
box's own jobs (closings at night, archives, checks), which also run with no broker set."""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from appliance.commands._common import load_config


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "agent", help="run the remote-admin agent (MQTT link, telemetry, marketplace sync)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from appliance.agent.service import Agent

    config = load_config(args)
    agent = Agent(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
    return 0
