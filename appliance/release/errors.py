"""Why a bundle or an update was refused, in words the admin can act on."""

from __future__ import annotations

from appliance.errors import ComptoirError


class ReleaseError(ComptoirError):
    """A bundle, a key or a release folder is not usable; nothing on the box was changed."""


class BundleRefused(ReleaseError):
    """The bundle failed a check; `problems` lists every one (the message says them all)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("bundle refused: " + "; ".join(problems))
        self.problems = problems
