"""The soak's memory and open-files verdicts (soak/checks.py): a leak shows through restarts,
warm-up is not a leak, and a run too short to say is not judged."""

from __future__ import annotations

from pathlib import Path

from appliance.release.services import Supervised
from soak.box import Incarnation, Service
from soak.checks import MIN_SPAN_DAYS, resources


def _service(*runs: list[tuple[float, float, int]]) -> Service:
    service = Service("kiosk", Supervised(Path("/nonexistent")))
    for n, run in enumerate(runs):
        incarnation = Incarnation(pid=100 + n, started_real=0.0, expected=True)
        incarnation.samples = [{"day": d, "rss_mb": mb, "fds": fds} for d, mb, fds in run]
        service.incarnations.append(incarnation)
    return service


def _run(first: float, last: float, mb: float, mb_per_day: float, fds: int = 20) -> list:
    days = [first + (last - first) * i / 20 for i in range(21)]
    return [(d, mb + mb_per_day * (d - first), fds) for d in days]


def _verdicts(service: Service, warmup: float = 1.0) -> dict[str, tuple[bool, bool]]:
    found, _ = resources({"kiosk": service}, warmup)
    return {c.name.split(": ")[1]: (c.held, c.judged) for c in found}


def test_a_leak_cut_by_restarts_is_still_seen_across_the_runs():
    # 3 MB a day, killed every two days: no run alone is long enough, together they are.
    service = _service(_run(0, 2, 150, 3), _run(2, 4, 150, 3), _run(4, 6, 150, 3))
    assert _verdicts(service)["resident memory flat"] == (False, True)


def test_the_first_day_filling_caches_is_warm_up_not_a_leak():
    warming = [(d / 10, 100 + 60 * d / 10, 20) for d in range(10)]  # +60 MB on day one
    flat = _run(1, 6, 160, 0.1)
    assert _verdicts(_service(warming + flat)) == {
        "resident memory flat": (True, True),
        "open files flat": (True, True),
    }


def test_a_restarted_process_warms_up_again():
    service = _service(
        _run(0, 4, 150, 0.0), [(4 + d / 10, 90 + 50 * d / 10, 20) for d in range(10)]
    )
    assert _verdicts(service)["resident memory flat"] == (True, True)


def test_an_open_file_a_day_is_a_leak():
    run = [(d / 4, 160.0, 20 + int(d / 4)) for d in range(25)]
    assert _verdicts(_service(run))["open files flat"] == (False, True)


def test_a_socket_open_at_some_samples_is_not_a_leak_even_late_in_the_run():
    # 11 fds, and now and then a request's socket: more of them near the end, as in a week's
    # web process (a slope of +0.25/day), yet the floor stays at 11.
    run = [(d / 4, 66.0, 11 + (d % 3 == 0 and d > 12)) for d in range(25)]
    assert _verdicts(_service(run), warmup=0.5)["open files flat"] == (True, True)


def test_a_file_closed_while_a_fault_is_injected_is_not_a_rise_of_the_floor_after_it():
    # The agent's broker socket is gone while the broker is down, early in the run: 18 -> 17.
    service = _service([(d / 4, 54.0, 17 if d == 6 else 18) for d in range(25)])
    service.incarnations[0].samples[6]["fault"] = True
    assert _verdicts(service, warmup=0.5)["open files flat"] == (True, True)
    service.incarnations[0].samples[6]["fault"] = False  # a dip outside a fault still counts
    assert _verdicts(service, warmup=0.5)["open files flat"] == (False, True)


def test_one_file_left_open_in_a_week_is_a_leak():
    run = [(d / 4, 66.0, 11 + (d > 18)) for d in range(29)]
    assert _verdicts(_service(run), warmup=0.5)["open files flat"] == (False, True)


def test_half_a_day_is_measured_not_judged():
    found, figures = resources({"kiosk": _service(_run(0.3, 0.9, 190, 100))}, 0.25)
    assert all(not c.judged for c in found) and figures["kiosk"]["judged"] is False
    assert f"under {MIN_SPAN_DAYS:g}" in found[0].figure
    assert found[0].as_dict()["held"] is None
