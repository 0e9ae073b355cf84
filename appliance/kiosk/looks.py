"""The kiosk's two looks: the shop's usual colours, and the accessibility mode's larger text in
high contrast (yellow and white on black, over 7:1, WCAG AAA).

Kv rules read the colours and the text scale from the app's properties (`app.ink`,
`app.fs(20, app.text_scale)`), so switching the look redraws every screen at once.
"""

from __future__ import annotations

from dataclasses import dataclass

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Looks:
    text_scale: float
    paper: RGBA  # the screens' background
    card: RGBA  # boxes on it: readings, basket rows, product cards
    ink: RGBA  # text
    accent: RGBA  # prices, the phone number
    primary: RGBA  # the main action's button
    primary_down: RGBA
    primary_ink: RGBA
    quiet: RGBA  # other buttons
    quiet_down: RGBA
    quiet_ink: RGBA
    ready: RGBA  # "Stable weight": the buttons can act
    wait: RGBA  # what to do first
    notice: RGBA  # the message band under a title
    notice_ink: RGBA


STANDARD = Looks(
    text_scale=1.0,
    paper=(0.98, 0.96, 0.9, 1),
    card=(1, 1, 1, 1),
    ink=(0.12, 0.12, 0.1, 1),
    accent=(0.16, 0.45, 0.27, 1),
    primary=(0.16, 0.45, 0.27, 1),
    primary_down=(0.1, 0.3, 0.18, 1),
    primary_ink=(1, 1, 1, 1),
    quiet=(0.85, 0.83, 0.77, 1),
    quiet_down=(0.7, 0.68, 0.62, 1),
    quiet_ink=(0.12, 0.12, 0.1, 1),
    ready=(0.1, 0.3, 0.18, 1),
    wait=(0.6, 0.3, 0.0, 1),
    notice=(0.85, 0.93, 0.86, 1),
    notice_ink=(0.1, 0.3, 0.18, 1),
)

ACCESSIBLE = Looks(
    text_scale=1.3,
    paper=(0, 0, 0, 1),
    card=(0.12, 0.12, 0.12, 1),
    ink=(1, 1, 1, 1),
    accent=(1, 0.9, 0.2, 1),
    primary=(1, 0.85, 0, 1),
    primary_down=(0.8, 0.68, 0, 1),
    primary_ink=(0, 0, 0, 1),
    quiet=(1, 1, 1, 1),
    quiet_down=(0.8, 0.8, 0.8, 1),
    quiet_ink=(0, 0, 0, 1),
    ready=(0.5, 1, 0.5, 1),
    wait=(1, 0.65, 0.2, 1),
    notice=(1, 0.9, 0.2, 1),
    notice_ink=(0, 0, 0, 1),
)


def looks(accessible: bool) -> Looks:
    return ACCESSIBLE if accessible else STANDARD
