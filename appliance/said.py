"""A sentence for a person, kept as its English template and its values, so that each reader
gets it in their language.

Parts of the box that write a text a producer reads later (an alert's detail, a device
command's error) write `said("door %(number)s stayed shut", number=3)`: `str()` of it is the
English sentence, which logs, the outbox and older releases read; the template and its values are
stored beside it, and the web admin says it through its Babel catalogue (`web/words.say`), where
every template is a message id (`pybabel extract -k said`). A value may itself be a `Said` (an
error's cause). Values named `*_cents` are amounts, `*_mc` temperatures: each reader's format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.core.haccp import format_mc
from appliance.core.money import format_euros


@dataclass(frozen=True)
class Said:
    template: str  # gettext style: "%(name)s" placeholders
    values: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template % {k: _english(k, v) for k, v in self.values.items()}

    def to_json(self) -> dict[str, Any]:
        values = {k: v.to_json() if isinstance(v, Said) else v for k, v in self.values.items()}
        return {"said": self.template, "values": values}

    @classmethod
    def from_json(cls, data: Any) -> Said | None:
        """What `to_json` wrote; None for anything else (an old row, a plain text)."""
        if not isinstance(data, dict) or not isinstance(data.get("said"), str):
            return None
        values = data.get("values")
        if not isinstance(values, dict):
            values = {}
        return cls(data["said"], {k: cls.from_json(v) or v for k, v in values.items()})


def _english(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name.endswith("_cents") and isinstance(value, int):
        return format_euros(value)
    if name.endswith("_mc") and isinstance(value, int):
        return f"{format_mc(value)} °C"
    return str(value)


def said(template: str, **values: Any) -> Said:
    return Said(template, values)


def of(error: BaseException) -> Said | str:
    """An exception's message as it was said (a `ComptoirError(said(...))`), else its text."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Said) else str(error)
