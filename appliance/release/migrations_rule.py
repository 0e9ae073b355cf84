"""The rule that makes a rollback safe: migrations only add (docs/updates.md).

Every release shares one database and a rollback keeps it as it is (a sale recorded during the
health gate stays), so the previous release must keep working on a database a newer release
migrated: no table or column dropped or renamed, no NOT NULL column without a default.
"""

from __future__ import annotations

import re
from pathlib import Path

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_FORBIDDEN = (
    (re.compile(r"\bDROP\s+TABLE\b", re.I), "drops a table"),
    (re.compile(r"\bALTER\s+TABLE\s+\S+\s+DROP\b", re.I), "drops a column"),
    (re.compile(r"\bALTER\s+TABLE\s+\S+\s+RENAME\b", re.I), "renames a table or a column"),
)
_ADD_COLUMN = re.compile(r"\bALTER\s+TABLE\s+\S+\s+ADD\s+(?:COLUMN\s+)?([^;]*)", re.I)


def problems(sql: str) -> list[str]:
    """What in one migration would break the release before it; empty when it only adds."""
    text = _COMMENT.sub(" ", sql)
    found = [why for pattern, why in _FORBIDDEN if pattern.search(text)]
    for column in _ADD_COLUMN.findall(text):
        if re.search(r"\bNOT\s+NULL\b", column, re.I) and not re.search(
            r"\bDEFAULT\b", column, re.I
        ):
            found.append(f"adds a NOT NULL column without a DEFAULT ({column.split()[0]})")
    return found


def check_folder(folder: Path) -> list[str]:
    """Every problem of every migration in `folder`, each naming its file."""
    return [
        f"{path.name} {why}: the release before it could not run on the migrated database; "
        "write a migration that only adds (docs/updates.md)"
        for path in sorted(folder.glob("*.sql"))
        for why in problems(path.read_text(encoding="utf-8"))
    ]
