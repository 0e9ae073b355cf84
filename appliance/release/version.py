"""Release versions as the bundles carry them: 1.2.3, with an optional a/b/rc pre-release.

Only what a release may be called, so a downgrade can be refused without another dependency.
"""

from __future__ import annotations

import re
from functools import total_ordering

from appliance.release.errors import ReleaseError

_VERSION = re.compile(r"(\d+(?:\.\d+){0,3})(?:(a|b|rc)(\d+))?")
_PRE = {"a": 0, "b": 1, "rc": 2}


@total_ordering
class Version:
    def __init__(self, text: str) -> None:
        match = _VERSION.fullmatch(text)
        if match is None:
            raise ReleaseError(
                f"version {text!r} is not a release version such as 1.2.3 or 1.3.0rc1"
            )
        self.text = text
        numbers = [int(n) for n in match[1].split(".")]
        numbers += [0] * (4 - len(numbers))
        pre = (_PRE[match[2]], int(match[3])) if match[2] else (3, 0)
        self._key = (*numbers, *pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __lt__(self, other: Version) -> bool:
        return self._key < other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"
