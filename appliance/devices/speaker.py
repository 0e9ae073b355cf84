"""Spoken prompts through espeak-ng (Debian's package), for the kiosk's accessibility mode.

One thread alone speaks; a prompt that arrives while another is said waits, and only the newest
waiting one is said (the screen moved on: the older prompt is stale). With `wav_dir` set, each
prompt is written there as a WAV file instead of played, to check what is said on a box without
a loudspeaker. A missing espeak-ng is said once in the log and the kiosk goes on silent.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path

from appliance.devices.worker import Worker

log = logging.getLogger(__name__)

#: Words a minute: a little slower than espeak-ng's 175, for a customer who listens at a scale.
RATE_WPM = 150
SPEAK_TIMEOUT_S = 30.0


class Speaker(Worker):
    def __init__(self, wav_dir: Path | None = None, program: str = "espeak-ng") -> None:
        super().__init__("speaker", interval_s=3600)
        self.wav_dir = wav_dir
        self.program = shutil.which(program)
        self.said = 0
        self._latest: tuple[str, str] | None = None
        self._guard = threading.Lock()
        if self.program is None:
            log.warning("%s is not installed: spoken prompts are off", program)

    def say(self, text: str, language: str) -> None:
        """From any thread: say `text` in `language` ("fr", "en") as soon as the speaker is free."""
        if self.program is None or not text:
            return
        with self._guard:
            self._latest = (text, language)
        self.submit(self._speak_latest)

    def _speak_latest(self) -> None:
        with self._guard:
            latest, self._latest = self._latest, None
        if latest is None:
            return  # a newer prompt already said it
        text, language = latest
        command = [str(self.program), "-v", language, "-s", str(RATE_WPM)]
        if self.wav_dir is not None:
            self.wav_dir.mkdir(parents=True, exist_ok=True)
            command += ["-w", str(self.wav_dir / f"prompt-{self.said + 1:04d}.wav")]
        done = subprocess.run(
            [*command, "--", text], capture_output=True, timeout=SPEAK_TIMEOUT_S, check=False
        )
        if done.returncode != 0:
            log.warning("espeak-ng failed (%s): %s", done.returncode, done.stderr[-200:])
            return
        self.said += 1
        if self.wav_dir is not None:
            (self.wav_dir / f"prompt-{self.said:04d}.txt").write_text(text, encoding="utf-8")
