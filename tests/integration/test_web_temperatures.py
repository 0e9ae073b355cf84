"""The temperatures page of the web admin through Flask's test client, on a real database."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from appliance import config as config_module
from appliance.cli import main
from appliance.config import Config
from appliance.core import haccp
from appliance.store import alerts, lockers, web_users
from appliance.store.alerts import Alarm
from appliance.store.db import transaction
from appliance.store.temperatures import record_temperatures
from appliance.store.web_users import Role
from appliance.web import charts, create_app
from tests.found import found
from tests.integration.test_web_admin import PASSWORD, log_in, text

DAY = "2026-07-01"
MIDNIGHT = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # 2026-07-01 00:00 in Paris
ZONES = (
    '[[haccp.zones]]\nname = "frigo"\nlimit_c = 4\nallowed_min = 30\nsensors = ["28-a"]\n'
    '[[haccp.zones]]\nname = "congel"\nlimit_c = -18\nallowed_min = 30\n'
    '[lockers]\n[[lockers.compartments]]\nnumber = 1\nchilled = true\nzone = "frigo"\n'
)


@pytest.fixture
def settings(config_file: Path) -> Config:
    config_file.write_text(config_file.read_text() + ZONES)
    return config_module.load(config_file)


@pytest.fixture
def cold_day(settings: Config, db: sqlite3.Connection) -> sqlite3.Connection:
    """The fridge at 3 °C every 10 minutes, but 6 °C (peak 7.5 °C) from 08:00 to 09:00 local
    while door 1 stood open 5 min 30 s; the freezer logged nothing."""
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    web_users.set_password(db, "ines", PASSWORD, Role.INSTALLER)
    readings = []
    for i in range(144):
        temp = 6000 if 48 <= i < 54 else 3000
        readings.append(
            ("frigo", int(MIDNIGHT.timestamp()) + 600 * i, "28-a", 7500 if i == 50 else temp)
        )
    record_temperatures(db, readings)
    eight = MIDNIGHT + timedelta(hours=8)
    lockers.record_door_event(db, 1, "door_opened", now=eight)
    lockers.record_door_event(db, 1, "door_closed", now=eight + timedelta(minutes=5, seconds=30))
    return db


@pytest.fixture
def client(settings: Config, cold_day: sqlite3.Connection) -> Iterator[FlaskClient]:
    with create_app(settings, settings.database_path).test_client() as test_client:
        test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        yield test_client


def page_of(client: FlaskClient, query: str = "") -> tuple[int, str]:
    response = client.get("/temperatures/" + query)
    return response.status_code, response.get_data(as_text=True)


def zone_row(page: str, zone: str) -> str:
    """The text of a zone's table row, tags removed and spaces squeezed."""
    row = found(re.search(rf'<tr id="zone-{zone}">(.*?)</tr>', page, re.S))[1]
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_a_producer_sees_each_zone_with_its_figures_and_excursion(client: FlaskClient) -> None:
    log_in(client, "paul")
    status, page = page_of(client, f"?day={DAY}")
    assert status == 200
    assert "Temperatures of Wednesday, July 1, 2026" in page
    # mean: (138 × 3.0 + 5 × 6.0 + 7.5) / 144 = 3.135 °C
    assert zone_row(page, "frigo") == (
        "frigo 4.0 °C 144 3.0 °C 7.5 °C 3.1 °C 7/1/26, 8:00 AM → 7/1/26, 9:00 AM, peak 7.5 °C 6 min"
    )
    assert zone_row(page, "congel") == "congel -18.0 °C 0 - - - none 0 min"


def test_installers_see_the_page_too_and_the_menu_leads_to_it(client: FlaskClient) -> None:
    log_in(client, "ines")
    status, page = page_of(client, f"?day={DAY}")
    assert status == 200 and 'id="zone-frigo"' in page
    assert 'href="/temperatures/">Temperatures</a>' in client.get("/").get_data(as_text=True)


def test_without_a_day_the_page_shows_the_shops_today(
    client: FlaskClient, cold_day: sqlite3.Connection
) -> None:
    record_temperatures(cold_day, [("congel", int(datetime.now(UTC).timestamp()), "28-b", -20500)])
    log_in(client, "paul")
    paris = ZoneInfo("Europe/Paris")
    before = datetime.now(paris).date()
    status, page = page_of(client)
    after = datetime.now(paris).date()
    assert status == 200
    assert any(f"Temperatures of {d:%A, %B} {d.day}, {d.year}" in page for d in {before, after})
    assert zone_row(page, "congel").startswith("congel -18.0 °C 1 -20.5 °C -20.5 °C -20.5 °C")


def test_the_csv_download_is_the_inspectors_report_of_the_command_line(
    client: FlaskClient, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_in(client, "paul")
    page = page_of(client, f"?day={DAY}")[1]
    link = found(re.search(r'id="download-csv" href="([^"]+)"', page))[1]
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="haccp-test-box-{DAY}.csv"'
    )
    downloaded = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(downloaded)))
    assert tuple(rows[0]) == haccp.REPORT_COLUMNS
    assert [tuple(r.values()) for r in rows] == [
        ("frigo", "4.0", "144", "3.0", "7.5", "3.1", "1", "60", "6"),
        ("congel", "-18.0", "0", "-", "-", "-", "0", "0", "0"),
    ]
    capsys.readouterr()
    assert main(["--config", str(config_file), "haccp", "report", "--date", DAY, "--csv"]) == 0
    assert capsys.readouterr().out == downloaded


def test_open_temperature_alarms_show_at_the_top(
    client: FlaskClient, cold_day: sqlite3.Connection
) -> None:
    with transaction(cold_day):
        alerts.raise_alarm(
            cold_day,
            Alarm.TEMPERATURE_EXCURSION,
            "zone frigo above 4 °C for 45 min",
            subject="zone frigo",
        )
        alerts.raise_alarm(
            cold_day, Alarm.PAYMENT_UNKNOWN, "card payment outcome unknown", subject="att-1"
        )
        alerts.raise_alarm(
            cold_day, Alarm.TEMPERATURE_SENSOR_FAULT, "sensor 28-a (frigo): CRC error"
        )
    log_in(client, "paul")
    _, page = page_of(client, f"?day={DAY}")
    alarms = page.index('id="temperature-alerts"')
    assert alarms < page.index("zone frigo above 4 °C for 45 min") < page.index('id="haccp-report"')
    assert alarms < page.index("sensor 28-a (frigo): CRC error") < page.index('id="haccp-report"')
    assert "Temperature excursion" in page and "Sensor fault" in page
    assert "card payment outcome unknown" not in page


def test_no_alarm_section_when_nothing_is_open(client: FlaskClient) -> None:
    log_in(client, "paul")
    assert 'id="temperature-alerts"' not in page_of(client, f"?day={DAY}")[1]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("?day=31/02/2026", "31/02/2026 is not a date: pick one, such as "),
        ("?day=2026-02-30", "2026-02-30 is not a date"),
        ("?day=0001-01-01", "0001-01-01 cannot be shown: pick a day from Jan 1, 2000 to today"),
        ("?day=9999-12-31", "9999-12-31 cannot be shown"),
    ],
)
def test_a_bad_date_is_said_on_the_page(client: FlaskClient, query: str, said: str) -> None:
    log_in(client, "paul")
    status, page = page_of(client, query)
    assert status == 400
    assert said in found(re.search(r'<p class="error" role="alert" id="error">(.*?)</p>', page))[1]
    assert 'id="haccp-report"' not in page
    download = client.get("/temperatures/report.csv" + query)
    assert download.status_code == 400 and "Content-Disposition" not in download.headers
    assert said in download.get_data(as_text=True)


def test_without_zones_the_page_says_how_to_configure_them_in_french(
    config_file: Path, db: sqlite3.Connection
) -> None:
    web_users.set_password(db, "paul", PASSWORD, Role.PRODUCER)
    settings = config_module.load(config_file)
    with create_app(settings, settings.database_path).test_client() as client:
        log_in(client, "paul")
        status, page = page_of(client)
    assert status == 200
    sentence = " ".join(found(re.search(r'<p id="no-zones">(.*?)</p>', page, re.S))[1].split())
    assert "Aucune zone de température n'est configurée sur ce boîtier" in sentence
    assert "ajoutez une table [[haccp.zones]] par zone" in sentence
    assert str(config_file) in sentence
    assert 'id="haccp-report"' not in page and "download-csv" not in page


def test_the_haccp_report_prints_as_a_pdf_in_french(
    settings: Config, cold_day: sqlite3.Connection, tmp_path: Path
) -> None:
    client = create_app(settings, settings.database_path).test_client()
    log_in(client, "paul")
    page = text(client.get(f"/temperatures/?day={DAY}"))
    assert "Températures du mercredi 1 juillet 2026" in page
    link = found(re.search(r'id="download-pdf" href="([^"]+)"', page))[1]
    response = client.get(link.replace("&amp;", "&"))
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="haccp-test-box-{DAY}.pdf"'
    )
    pdf = tmp_path / "haccp.pdf"
    pdf.write_bytes(response.data)
    words = " ".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
        ).stdout.split()
    )
    assert "Relevé de la chaîne du froid du mercredi 1 juillet 2026" in words
    assert "Ferme test" in words and "test-box" in words
    # the fridge's line: limit, readings, min, max, mean, one excursion, 6 min door open
    assert "frigo 4,0 °C 144 3,0 °C 7,5 °C 3,1 °C 1 6 min" in words
    assert "01/07/2026 08:00 01/07/2026 09:00 7,5 °C 60" in words
    assert "HACCP · test-box · 2026-07-01 · 1/1" in words


SVG = re.compile(r"<svg class=\"chart\".*?</svg>", re.S)


def section(page: str, ident: str) -> str:
    return found(
        re.search(rf'<section class="card[^"]*" id="{ident}">(.*?)</section>', page, re.S)
    )[1]


def test_each_zone_has_a_day_and_a_week_chart_with_its_limit_and_excursion(
    client: FlaskClient,
) -> None:
    log_in(client, "paul")
    page = text(client.get(f"/temperatures/?day={DAY}"))
    fridge = section(page, "chart-frigo")
    day, week = SVG.findall(fridge)
    assert "<title>Temperatures of frigo on Wednesday, July 1, 2026</title>" in day
    assert day.count('class="excursion"') == 1 and week.count('class="excursion"') == 1
    assert 'class="limit"' in day and "limit 4.0 °C" in day
    assert day.count('class="peak"') == 1
    # 08:00 to 09:00 local of a 24 h day: the band starts a third of the way across
    band = found(re.search(r'class="excursion" x="([\d.]+)" y="\d+" width="([\d.]+)"', day))
    x, width = float(band[1]), float(band[2])
    plot = charts.WIDTH - charts.LEFT - charts.RIGHT
    assert abs(x - (charts.LEFT + plot * 8 / 24)) < 1 and abs(width - plot / 24) < 1
    # one polyline: the fridge logged every 10 minutes, no gap
    assert day.count('class="reading"') == 1
    freezer = section(page, "chart-congel")
    assert 'class="reading"' not in freezer and 'class="limit"' in freezer
