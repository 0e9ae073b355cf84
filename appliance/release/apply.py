"""The updater: switch to the installed release, gate it, keep it or go back (docs/updates.md).

Runs as its own unit (comptoir-update.service, or the supervisor's `update`) from the
`updater` link, which names the release the update came from: the known-good code, whatever
`current` points to. Each step is saved in update-state.json before it is taken, so a SIGKILL
or a power cut anywhere is finished on the next start: `apply` again (the unit is restarted when
it dies) or `recover` at boot, both going back to `from` when the switch was not finished.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass

from appliance.config import Config
from appliance.release import failpoint
from appliance.release.errors import ReleaseError
from appliance.release.gate import BrokerWatch, Gate, Verdict, run
from appliance.release.layout import Layout, Phase, UpdateState
from appliance.release.services import UNITS, Services
from appliance.store import agent_state, outbox, update_jobs
from appliance.store.db import open_database, transaction
from appliance.store.technical_events import EventKind, record

log = logging.getLogger(__name__)

BY = "updater"


@dataclass(frozen=True)
class Outcome:
    phase: Phase
    reason: str = ""


def prepare(layout: Layout, job: str, to_version: str, health_s: int) -> UpdateState:
    """Before the updater starts: the state says what to switch, `updater` names the code."""
    current = layout.current()
    if current is None:
        raise ReleaseError(f"{layout.root} has no current release: install one with --first")
    if not layout.is_complete(to_version):
        raise ReleaseError(f"release {to_version} is not installed under {layout.releases}")
    state = layout.state()
    if state is not None and state.phase.unfinished:
        raise ReleaseError(f"update {state.job} is still {state.phase.value}: wait for it")
    layout.point(layout.updater_link, current)
    return layout.save(
        UpdateState(
            job, current, to_version, layout.previous(), Phase.INSTALLED, health_s=health_s
        ).at(Phase.INSTALLED)
    )


def apply(config: Config, layout: Layout, services: Services) -> Outcome:
    """Take the saved update from wherever it stands to committed or rolled back."""
    state = layout.state()
    if state is None:
        raise ReleaseError(f"no update to apply: {layout.state_path} does not exist")
    db = open_database(config.database_path)
    try:
        if state.phase.unfinished:
            return _roll_back(
                db, layout, services, state, f"the updater was stopped during {state.phase.value}"
            )
        if state.phase is not Phase.INSTALLED:
            _record(db, state)  # finished before: make sure its outcome was recorded
            return Outcome(state.phase, state.reason)
        if layout.current() != state.from_version:
            raise ReleaseError(
                f"current is {layout.current()}, the update was prepared over {state.from_version}"
            )
        return _switch_and_gate(config, db, layout, services, state)
    finally:
        db.close()


def recover(config: Config, layout: Layout) -> Outcome | None:
    """At boot, before the units start: a switch that was cut goes back to `from`."""
    state = layout.state()
    if state is None or state.phase is Phase.INSTALLED:
        return None
    db = open_database(config.database_path)
    try:
        if not state.phase.unfinished:
            _record(db, state)  # cut just after the end: make sure its outcome was recorded
            return None
        return _roll_back(db, layout, None, state, f"the box restarted during {state.phase.value}")
    finally:
        db.close()


def _switch_and_gate(
    config: Config, db: sqlite3.Connection, layout: Layout, services: Services, state: UpdateState
) -> Outcome:
    state = layout.save(state.at(Phase.SWITCHING))
    update_jobs.set_state(db, state.job, "switching")
    failpoint.reached("apply:switching")
    layout.point(layout.previous_link, state.from_version)
    failpoint.reached("apply:previous")
    layout.point(layout.current_link, state.to_version)
    failpoint.reached("apply:current")
    state = layout.save(state.at(Phase.GATING))
    session_before = agent_state.counter(db, agent_state.SESSION)
    since = time.time()
    broker = BrokerWatch(config) if config.mqtt.url else None
    try:
        _restart_all(services)
        update_jobs.set_state(db, state.job, "health_check")
        failpoint.reached("apply:restarted")
        gate = Gate(
            config,
            services,
            db,
            version=state.to_version,
            since=since,
            session_before=session_before,
            broker=broker,
        )
        verdict: Verdict = run(gate, state.health_s)
    except ReleaseError as exc:
        verdict = Verdict(False, (str(exc),))
    finally:
        if broker is not None:
            broker.close()
    failpoint.reached("apply:gated")
    if not verdict.ok:
        return _roll_back(db, layout, services, state, verdict.reason)
    state = layout.save(state.at(Phase.COMMITTED))
    failpoint.reached("apply:committed")
    _record(db, state)
    _prune(layout)
    log.info("update %s: %s kept", state.job, state.to_version)
    return Outcome(Phase.COMMITTED)


def _roll_back(
    db: sqlite3.Connection,
    layout: Layout,
    services: Services | None,
    state: UpdateState,
    reason: str,
) -> Outcome:
    if state.phase is Phase.ROLLING_BACK and state.reason:
        reason = state.reason  # a rollback cut half-way: finish it for its first reason
    log.warning("update %s: going back to %s: %s", state.job, state.from_version, reason)
    state = layout.save(state.at(Phase.ROLLING_BACK, reason))
    failpoint.reached("apply:rolling_back")
    layout.point(layout.current_link, state.from_version)
    if state.previous_before and layout.is_complete(state.previous_before):
        layout.point(layout.previous_link, state.previous_before)
    else:
        layout.point(layout.previous_link, None)
    if services is not None:
        unrestarted = _restart_all(services, tolerant=True)
        if unrestarted:  # the links are back: the units take the old release when they start
            reason += f"; could not restart {unrestarted}"
    state = layout.save(state.at(Phase.ROLLED_BACK, reason))
    failpoint.reached("apply:rolled_back")
    _record(db, state)
    return Outcome(Phase.ROLLED_BACK, reason)


def _restart_all(services: Services, *, tolerant: bool = False) -> str:
    """Restart the three units; `tolerant` (a rollback) goes on past a failure and says which."""
    failed = []
    for unit in UNITS:
        try:
            services.restart(unit)
        except ReleaseError as exc:
            if not tolerant:
                raise
            log.error("could not restart %s: %s", unit, exc)
            failed.append(f"{unit} ({exc})")
    return ", ".join(failed)


def _record(db: sqlite3.Connection, state: UpdateState) -> None:
    """The outcome, once: the job's state, the technical events journal and the outbox."""
    job = update_jobs.get(db, state.job)
    if job is not None and job.finished:
        return
    kept = state.phase is Phase.COMMITTED
    details = {"job": state.job, "from": state.from_version, "to": state.to_version}
    if not kept:
        details["reason"] = state.reason
    with transaction(db):
        if job is None:
            update_jobs.insert_found(db, state.job, state.to_version, state.from_version)
        update_jobs.set_state(
            db,
            state.job,
            "succeeded" if kept else "rolled_back",
            reason=state.reason if not kept else "",
        )
        record(db, EventKind.UPDATE if kept else EventKind.ROLLBACK, details, by=BY)
        outbox.emit(db, "software_updated" if kept else "software_rolled_back", details)


def _prune(layout: Layout) -> None:
    """Keep the current and previous releases (and the updater's); remove older ones."""
    keep = {layout.current(), layout.previous(), layout.updater()}
    for version in layout.installed():
        if version not in keep:
            shutil.rmtree(layout.folder(version), ignore_errors=True)
