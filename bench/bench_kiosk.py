"""Kiosk speed: cold start, frame time under a changing weight, reading-to-screen latency, and
memory and open files after 1,000 sales with pictures on (40 products, each with its own photo,
every category shown) and each receipt with its QR code. The kiosk runs in a child process
under a private Xvfb, against the simulated scale, printer and card terminal, through its real
drivers.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._table import percentile, print_table

ROOT = Path(__file__).resolve().parents[1]
SALES = 1000
WEIGH_SECONDS = 10
CATEGORIES = ("Fruits", "Légumes", "Fromages", "Boissons", "Boulangerie", "Épicerie", "Œufs", "")
PHOTOS = 40


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _measure(app, shop, figures: dict) -> None:
    from kivy.clock import Clock

    from appliance.kiosk.flows.events import Action, ReadingArrived, Touched

    async def until(condition, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"stuck on {app.flow.journey.screen}")
            await asyncio.sleep(0.005)

    def touch(action: str, argument: str = "") -> None:
        app.send(Touched(Action(action), argument))

    # Frame times and reading-to-screen latency while the load changes 10 times a second.
    frames: list[float] = []
    latencies: list[int] = []
    last = [time.perf_counter()]

    def on_frame(_dt: float) -> None:
        now = time.perf_counter()
        frames.append((now - last[0]) * 1000)
        last[0] = now

    def timed_post(event) -> None:
        """Like `app.post`, noting how many frames pass until the reading is on screen."""
        posted = Clock.frames_displayed

        def deliver(_dt: float) -> None:
            app.send(event)
            if event.reading.weight_g:
                latencies.append(Clock.frames_displayed - posted + 1)  # drawn at the next frame

        Clock.schedule_once(deliver, -1)

    # The first catalogue: its 40 photos are made thumbnails (once) by the shop's thread.
    await until(lambda: app.flow.journey.browse.products, timeout=300)
    figures["pictures_ready_s"] = time.time() - float(os.environ["BENCH_STARTED"])
    if app.effects.scale is not None:
        app.effects.scale.on_reading = lambda r: timed_post(ReadingArrived(r))
    touch("start")
    weighed = next(p for p in app.flow.journey.browse.products if p.by_weight)
    touch("product", weighed.sku)
    Clock.schedule_interval(on_frame, 0)
    for step in range(WEIGH_SECONDS * 10):
        shop.put(500 + 2 * (step % 40) * 10)
        await asyncio.sleep(0.1)
    Clock.unschedule(on_frame)
    figures["frame_ms"] = frames[5:]
    figures["latency_frames"] = latencies
    touch("back")
    touch("back")
    # Sales by the piece, paid on the simulated terminal and recorded in the database.
    piece = next(p for p in app.flow.journey.browse.products if not p.by_weight)
    shop.put(0)
    for sale in range(1, SALES + 1):
        touch("start")
        touch("product", piece.sku)
        touch("add")
        touch("pay")
        await until(lambda: app.flow.journey.screen.value == "receipt")
        touch("done")
        touch("done")
        if sale in (100, SALES):
            await _show_pictures(app, until)
            figures[f"rss_mb_{sale}"] = _rss_mb()
            figures[f"fds_{sale}"] = len(os.listdir("/proc/self/fd"))


async def _show_pictures(app, until) -> None:
    """Every category's tiles drawn, then the attract screen: every picture is a texture."""
    from appliance.kiosk.flows.events import Action, Touched

    app.send(Touched(Action.START))
    for category in ("", *app.flow.journey.browse.categories):
        app.send(Touched(Action.CATEGORY, category))
        await asyncio.sleep(0.3)  # the images load and draw
    app.send(Touched(Action.BACK))
    await until(lambda: app.flow.journey.screen.value == "home")
    app.flow.journey.attract(time.monotonic())
    app.render()
    await asyncio.sleep(0.3)
    app.send(Touched(Action.WAKE))
    await asyncio.sleep(1.0)  # a kiosk at rest between customers: its idle tick has run


def child(out: Path, config_path: Path) -> int:
    started = float(os.environ["BENCH_STARTED"])
    from appliance import config as config_module
    from appliance.kiosk import window

    site = config_module.load(config_path)
    window.prepare(site.kiosk, fullscreen=False)
    from appliance.devices.payment.factory import open_terminal
    from appliance.kiosk.app import KioskApp
    from appliance.kiosk.effects import Effects
    from appliance.kiosk.simulated import SimulatedShop

    figures: dict = {}
    with SimulatedShop(pace=False) as shop:
        wired = shop.site(site)
        printer = shop.label_printer(wired, wired.device.data_dir / "labels")
        terminal = open_terminal(wired.payment)

        async def run(app) -> None:
            try:
                await _measure(app, shop, figures)
            finally:
                app.stop()

        tasks = []

        def ready(app) -> None:
            figures["first_frame_s"] = time.time() - started
            figures["rss_mb_start"] = _rss_mb()
            tasks.append(asyncio.ensure_future(run(app)))

        app = KioskApp(wired, lambda post: Effects(wired, printer, terminal, post), on_ready=ready)
        asyncio.run(app.async_run(async_lib="asyncio"))
    out.write_text(json.dumps(figures))
    return 0


def _seed(folder: Path) -> Path:
    from PIL import Image

    from appliance.core.catalogue import Product, SoldBy
    from appliance.store import catalogue
    from appliance.store.db import open_database, transaction

    data = folder / "data"
    photos = data / "photos"
    photos.mkdir(parents=True)
    db = open_database(data / "comptoir.db")
    with transaction(db):
        catalogue.save(db, Product("POMMES", "Pommes", SoldBy.WEIGHT, 349, 550))
        catalogue.save(db, Product("OEUFS", "Œufs x6", SoldBy.PIECE, 320, 550))
        for n in range(PHOTOS):  # a producer's phone photos: 1600 x 1200 each
            Image.effect_noise((1600, 1200), 40 + n).convert("RGB").save(photos / f"p{n}.jpg")
            category = CATEGORIES[n % len(CATEGORIES)]
            catalogue.save(
                db,
                Product(
                    f"P{n}",
                    f"Produit {n}",
                    SoldBy.PIECE,
                    100 + n,
                    550,
                    photo=f"p{n}.jpg",
                    category=category,
                ),
            )
    db.close()
    path = folder / "comptoir.toml"
    path.write_text(
        f'[device]\nid = "bench"\ndata_dir = "{data}"\n[kiosk]\nfullscreen = false\n'
        'idle_timeout_s = 3600\nreceipt_base_url = "https://example.org/r"\n'
    )
    return path


def bare_window(out: Path) -> int:
    """The memory of an empty Kivy window on the same display: the floor the kiosk stands on
    (under Xvfb it includes Mesa's software renderer, absent on a Pi's GPU)."""
    os.environ["KIVY_NO_ARGS"] = "1"
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.label import Label

    class Bare(App):
        def build(self) -> Label:
            Clock.schedule_once(self._measure, 1)
            return Label(text="Comptoir")

        def _measure(self, _dt: float) -> None:
            out.write_text(json.dumps({"rss_mb": _rss_mb()}))
            self.stop()

    Bare().run()
    return 0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = _seed(folder)
        number = next(n for n in range(200, 300) if not Path(f"/tmp/.X{n}-lock").exists())
        xvfb = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            subprocess.run(
                [
                    "sh",
                    "-c",
                    f"for i in $(seq 100); do xdpyinfo -display :{number} >/dev/null"
                    " 2>&1 && exit 0; sleep 0.1; done; exit 1",
                ],
                check=True,
            )
            out = folder / "figures.json"
            env = dict(
                os.environ,
                DISPLAY=f":{number}",
                KIVY_HOME=str(folder / "kivy"),
                PYTHONPATH=str(ROOT),
                BENCH_STARTED=repr(time.time()),
            )
            subprocess.run(
                [sys.executable, "-m", "bench.bench_kiosk", str(out), str(config_path)],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=900,
            )
            figures = json.loads(out.read_text())
            bare = folder / "bare.json"
            subprocess.run(
                [sys.executable, "-m", "bench.bench_kiosk", "--bare-window", str(bare)],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=120,
            )
            floor_mb = json.loads(bare.read_text())["rss_mb"]
        finally:
            xvfb.terminate()
            xvfb.wait(timeout=10)
    frames = figures["frame_ms"]
    latency = figures["latency_frames"] or [0]
    rss_100, rss_end = figures["rss_mb_100"], figures[f"rss_mb_{SALES}"]
    rows = [
        ("cold start to first frame (s)", f"{figures['first_frame_s']:.2f}", "-", "-"),
        (
            f"first catalogue, {PHOTOS} new photos made thumbnails (s)",
            f"{figures['pictures_ready_s']:.2f}",
            "-",
            "-",
        ),
        ("frame time p50 at 10 readings/s (ms)", f"{percentile(frames, 50):.1f}", "-", "-"),
        ("frame time p99 at 10 readings/s (ms)", f"{percentile(frames, 99):.1f}", "33", ""),
        ("stable reading to price, p50 (frames)", f"{percentile(latency, 50)}", "-", "-"),
        ("stable reading to price, p99 (frames)", f"{percentile(latency, 99)}", "1", ""),
        ("resident memory at first frame (MB)", f"{figures['rss_mb_start']:.1f}", "-", "-"),
        # No absolute goal: under Xvfb the bare window alone (Mesa's software renderer) is ~150 MB.
        (f"resident memory after {SALES} sales (MB)", f"{rss_end:.1f}", "-", "-"),
        (f"memory growth sales 100..{SALES} (MB)", f"{rss_end - rss_100:+.1f}", "0", "-"),
        (
            f"open files after sales 100 and {SALES}",
            f"{figures['fds_100']}, {figures[f'fds_{SALES}']}",
            "-",
            "-",
        ),
        ("bare Kivy window, same display (MB)", f"{floor_mb:.1f}", "-", "-"),
        ("kiosk above the bare window, pictures on (MB)", f"{rss_end - floor_mb:.1f}", "40", ""),
    ]
    rows = [
        (name, value, goal, f"{float(value) / float(goal):.2f}" if ratio == "" else ratio)
        for name, value, goal, ratio in rows
    ]
    print_table(("figure", "value", "goal", "value/goal"), rows)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-window":
        sys.exit(bare_window(Path(sys.argv[2])))
    if len(sys.argv) == 3:
        sys.exit(child(Path(sys.argv[1]), Path(sys.argv[2])))
    main()
