"""A plain-text progress bar on stderr: stdout carries only the results."""

import sys
import time
from typing import TextIO

WIDTH = 24


class ProgressBar:
    """`[#####.......]  5/21   12.3 s  what runs now`, one line per step; on a terminal
    the line is redrawn in place, elsewhere (a log, a pipe) each step is a line."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.done = max(1, total), 0
        self._stream = sys.stderr if stream is None else stream
        self._enabled = enabled
        self._began = time.monotonic()
        self._tty = self._stream.isatty()

    def __call__(self, message: str) -> None:
        self.done += 1
        if not self._enabled:
            return
        shown = min(self.done, self.total)
        filled = WIDTH * shown // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        line = f"[{bar}] {shown:>2}/{self.total} {time.monotonic() - self._began:6.1f} s  {message}"
        if self._tty:
            self._stream.write("\r\x1b[K" + line[:160])
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def finish(self) -> None:
        if self._enabled and self._tty:
            self._stream.write("\n")
            self._stream.flush()
