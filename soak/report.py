"""The soak's verdict: one table of faults and invariants on stdout, and `soak-report.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak.checks import Check


@dataclass
class FaultRecord:
    name: str
    day: int
    at: str  # simulated local time
    survived: bool
    detail: str = ""
    real_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "day": self.day,
            "at": self.at,
            "survived": self.survived,
            "detail": self.detail,
            "real_s": round(self.real_s, 1),
        }


@dataclass
class Report:
    params: dict[str, Any]
    faults: list[FaultRecord] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            all(f.survived for f in self.faults)
            and all(c.held for c in self.checks)
            and bool(self.checks)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "params": self.params,
            "faults": [f.as_dict() for f in self.faults],
            "invariants": [c.as_dict() for c in self.checks],
            "figures": self.figures,
            "findings": self.findings,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False) + "\n")

    def table(self) -> str:
        lines = [
            f"Comptoir soak: {self.params['days']} simulated days in "
            f"{self.figures.get('real_minutes', '?')} real minutes, seed {self.params['seed']}",
            "",
            f"{'fault injected':<44} {'day':>3} {'at':<16} {'survived':<8} detail",
        ]
        for f in self.faults:
            lines.append(
                f"{f.name:<44} {f.day:>3} {f.at:<16} {'yes' if f.survived else 'NO':<8} "
                f"{f.detail[:70]}"
            )
        lines += ["", f"{'invariant':<58} {'held':<6} figure"]
        for c in self.checks:
            held = ("yes" if c.held else "NO") if c.judged else "n/j"
            lines.append(f"{c.name:<58} {held:<6} {c.figure}")
            lines += [f"{'':<8}- {d[:150]}" for d in (c.details if not c.held else [])[:8]]
        activity = self.figures.get("activity", {})
        if activity:
            lines += ["", "activity: " + ", ".join(f"{k} {v}" for k, v in activity.items())]
        if self.findings:
            lines += ["", "findings:"] + [f"  - {f[:200]}" for f in self.findings[:30]]
        lines += ["", "PASSED" if self.passed else "FAILED"]
        return "\n".join(lines)
