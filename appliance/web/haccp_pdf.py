"""The day's cold-chain report as a PDF for the HACCP file: what an inspector reads on paper.

The same figures as the page and the CSV (`temperatures.report`), plus every excursion with its
start, end and peak, the open temperature alarms, and who the box is, so a loose sheet can be
filed back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext

from appliance import clock
from appliance.config import Config
from appliance.core import haccp
from appliance.legal import legal_identity
from appliance.store.alerts import Alert
from appliance.web.context import local_time, long_day
from appliance.web.pdf import Document
from appliance.web.words import alert_name, celsius


def report(
    cfg: Config, day: date, lines: Sequence[haccp.ZoneDay], alarms: Sequence[Alert]
) -> bytes:
    title = gettext("Cold-chain record of %(day)s", day=long_day(day))
    doc = Document(title, footer=f"HACCP · {cfg.device.id} · {day.isoformat()}")
    doc.facts(
        [
            (gettext("Shop"), " · ".join(x for x in (cfg.device.name, cfg.device.address) if x)),
            (gettext("Box"), cfg.device.id),
            (gettext("Day"), f"{day.isoformat()} ({cfg.device.timezone})"),
            (gettext("Printed"), local_time(clock.now_iso())),
            (gettext("Software"), f"Comptoir {legal_identity().version}"),
        ]
    )
    doc.heading(gettext("Zones"))
    doc.table(
        [
            gettext("Zone"),
            gettext("Limit"),
            gettext("Readings"),
            gettext("Min"),
            gettext("Max"),
            gettext("Mean"),
            gettext("Excursions"),
            gettext("Door open"),
        ],
        [
            [
                line.zone,
                celsius(line.limit_mc),
                str(line.readings),
                celsius(line.min_mc),
                celsius(line.max_mc),
                celsius(line.mean_mc),
                str(len(line.excursions)),
                gettext("%(minutes)d min", minutes=line.door_open_minutes),
            ]
            for line in lines
        ],
        widths=[3, 2, 2, 2, 2, 2, 3, 3],
        align=["LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"],
    )
    excursions = [e for line in lines for e in line.excursions]
    doc.heading(gettext("Excursions"))
    if excursions:
        doc.table(
            [
                gettext("Zone"),
                gettext("Start"),
                gettext("End"),
                gettext("Peak"),
                gettext("Minutes"),
            ],
            [
                [
                    e.zone,
                    local_time(clock.iso(e.start)),
                    local_time(clock.iso(e.end)) if e.end else gettext("still above"),
                    celsius(e.peak_mc),
                    str(int(e.duration.total_seconds() // 60)),
                ]
                for e in excursions
            ],
            widths=[2, 3, 3, 2, 2],
        )
    else:
        doc.paragraph(gettext("No zone stayed above its limit longer than it allows."))
    if alarms:
        doc.heading(gettext("Open temperature alarms"))
        for alarm in alarms:
            doc.paragraph(
                f"{alert_name(alarm.kind)} · {local_time(alarm.created_at)}: {alarm.message}",
                warn=True,
            )
    doc.paragraph(
        gettext(
            "With several sensors in a zone, the warmest reading at each time counts. An "
            "excursion is a stay above the limit longer than the zone allows."
        ),
        small=True,
    )
    return doc.bytes()
