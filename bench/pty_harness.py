"""Run a terminal program in a pseudo-terminal and time what it writes.

The program gets a 120x40 pty (TIOCSWINSZ before it starts), TERM=xterm-256color and
COLORTERM=truecolor. A reader thread drains the master side with select() + os.read() and
timestamps every chunk (time.perf_counter), so the program never blocks on a full pty buffer.

Frame detection
---------------
Textual wraps every screen update in synchronized-output markers, "\\x1b[?2026h" ...
"\\x1b[?2026l", but only once the terminal says it supports mode 2026: at start the driver
writes the DECRQM query "\\x1b[?2026$p". The reader answers it as a modern terminal would,
"\\x1b[?2026;2$y" (DECRPM: mode known, currently reset), after which each frame ends with
"\\x1b[?2026l" and the time of the chunk holding that marker is the frame's end. Without the
answer (`answer_sync=False`) Textual writes no markers; frames are then found by quiescence:
a frame ends at the last byte before the output is silent for `gap` seconds.

Frames written before Textual processed the answer carry no markers either; first paint
therefore uses quiescence in both modes: it ends at the last frame end (or last byte) before
the output has been silent for `settle` seconds ("the screen stopped changing").

Used by bench/run_all.py; it can also be run on its own:

    python bench/pty_harness.py -- python bench/bare_app.py list
"""

from __future__ import annotations

import argparse
import fcntl
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
DECRQM_SYNC = b"\x1b[?2026$p"
DECRPM_SYNC_SUPPORTED = b"\x1b[?2026;2$y"

KEYS: dict[str, bytes] = {
    "j": b"j",
    "k": b"k",
    "q": b"q",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
}


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 100 samples is the largest but one)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


@dataclass
class KeySample:
    key: str
    latency: float  # key written -> end of the first frame after it
    settled: float  # key written -> end of the last frame before the output went quiet
    frames: int
    nbytes: int


@dataclass
class KeyStats:
    key: str
    samples: list[KeySample] = field(default_factory=list)

    def _values(self, attr: str) -> list[float]:
        """Values of the presses that drew something (misses are counted in `timeouts`)."""
        return [getattr(s, attr) for s in self.samples if s.frames]

    @property
    def median_ms(self) -> float:
        values = self._values("latency")
        return statistics.median(values) * 1000 if values else float("nan")

    @property
    def p99_ms(self) -> float:
        return percentile(self._values("latency"), 99) * 1000

    @property
    def settled_median_ms(self) -> float:
        values = self._values("settled")
        return statistics.median(values) * 1000 if values else float("nan")

    @property
    def settled_p99_ms(self) -> float:
        return percentile(self._values("settled"), 99) * 1000

    @property
    def median_bytes(self) -> float:
        values = self._values("nbytes")
        return statistics.median(values) if values else float("nan")

    @property
    def timeouts(self) -> int:
        return sum(1 for s in self.samples if s.frames == 0)


class PtySession:
    """One program in one pty. Not thread-safe beyond the internal reader thread."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 120,
        rows: int = 40,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        answer_sync: bool = True,
        gap: float = 0.05,
    ) -> None:
        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self.cwd = cwd
        self.answer_sync = answer_sync
        self.gap = gap
        self.env = dict(os.environ if env is None else env)
        self.env.update(TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(cols),
                        LINES=str(rows))
        self.env.pop("TEXTUAL", None)  # no devtools
        self.buf = bytearray()
        self.chunks: list[tuple[float, int]] = []  # (time, buffer length after the chunk)
        self.frame_ends: list[tuple[float, int]] = []  # (time, offset just after SYNC_END)
        self.sync_answered = 0
        self.cond = threading.Condition()
        self.closed = False
        self.proc: subprocess.Popen[bytes] | None = None
        self.t_spawn = 0.0
        self._scan_from = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.cols, 0, 0))
        self.master = master

        def make_controlling_tty() -> None:  # runs in the child after setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env, cwd=self.cwd,
            start_new_session=True, preexec_fn=make_controlling_tty, close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()

    def _read_loop(self) -> None:
        fd = self.master
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
            except (OSError, ValueError):
                break
            if not ready:
                if self.proc is not None and self.proc.poll() is not None:
                    # Drain what is left, then stop.
                    try:
                        data = os.read(fd, 1 << 16)
                    except OSError:
                        break
                    if not data:
                        break
                    self._on_data(time.perf_counter(), data)
                continue
            try:
                data = os.read(fd, 1 << 16)
            except OSError:  # EIO: the child closed the slave side
                break
            if not data:
                break
            self._on_data(time.perf_counter(), data)
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def _on_data(self, now: float, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.chunks.append((now, len(self.buf)))
            start = max(0, self._scan_from - 16)
            view = bytes(self.buf[start:])
            pos = 0
            while True:
                hit = view.find(SYNC_END, pos)
                if hit < 0:
                    break
                end = start + hit + len(SYNC_END)
                if end > self._scan_from:
                    self.frame_ends.append((now, end))
                pos = hit + 1
            if self.answer_sync:
                pos = 0
                while True:
                    hit = view.find(DECRQM_SYNC, pos)
                    if hit < 0:
                        break
                    if start + hit + len(DECRQM_SYNC) > self._scan_from:
                        self.write(DECRPM_SYNC_SUPPORTED)
                        self.sync_answered += 1
                    pos = hit + 1
            self._scan_from = len(self.buf)
            self.cond.notify_all()

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def stop(self, quit_key: bytes | None = b"q", timeout: float = 5.0) -> int | None:
        """Ask the program to quit with `quit_key`, then SIGTERM, then SIGKILL (this pid only)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None and quit_key:
            try:
                self.write(quit_key)
            except OSError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            proc.send_signal(sig)
            try:
                proc.wait(2.0)
            except subprocess.TimeoutExpired:
                pass
        self._reader.join(2.0)
        try:
            os.close(self.master)
        except OSError:
            pass
        return proc.returncode

    # -- observation -----------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        with self.cond:
            return len(self.buf)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def last_output_time(self) -> float:
        with self.cond:
            return self.chunks[-1][0] if self.chunks else self.t_spawn

    def wait_quiet(self, quiet: float, timeout: float) -> bool:
        """Wait until nothing has been written for `quiet` seconds. False on timeout."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                now = time.perf_counter()
                last = self.chunks[-1][0] if self.chunks else self.t_spawn
                if now - last >= quiet:
                    return True
                if self.closed or now >= deadline:
                    return False
                self.cond.wait(min(quiet - (now - last), deadline - now) + 0.001)

    def wait_first_output(self, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while not self.chunks:
                now = time.perf_counter()
                if self.closed or now >= deadline:
                    return False
                self.cond.wait(deadline - now)
            return True

    def frames_between(self, offset_from: int, offset_to: int) -> list[tuple[float, int]]:
        with self.cond:
            return [(t, o) for t, o in self.frame_ends if offset_from < o <= offset_to]

    def first_paint(self, settle: float = 0.5, timeout: float = 60.0) -> tuple[float, int, bool]:
        """(seconds from spawn, bytes, settled?) for the screen once it stops changing."""
        self.wait_first_output(timeout)
        ok = self.wait_quiet(settle, max(0.0, timeout - (time.perf_counter() - self.t_spawn)))
        with self.cond:
            t_last, n_last = self.chunks[-1] if self.chunks else (self.t_spawn, 0)
            frames = [(t, o) for t, o in self.frame_ends if o <= n_last]
            if frames:
                # The last marked frame; bytes after it (a cursor move) are not painting.
                t_last, n_last = frames[-1]
        return t_last - self.t_spawn, n_last, ok

    def first_frame(self) -> tuple[float, int]:
        """End of the first frame: first SYNC_END, or else the end of the first burst."""
        with self.cond:
            if not self.chunks:
                return float("nan"), 0
            prev_t, prev_n = self.chunks[0]
            burst_end = (prev_t, prev_n)
            for t, n in self.chunks[1:]:
                if t - prev_t >= self.gap:
                    break
                prev_t, prev_n = t, n
                burst_end = (t, n)
            if self.frame_ends and self.frame_ends[0][0] <= burst_end[0]:
                t, n = self.frame_ends[0]
            else:
                t, n = burst_end
            return t - self.t_spawn, n

    def press(self, key: str, *, gap: float | None = None, timeout: float = 5.0) -> KeySample:
        """Write one key; time the frames it causes until the output is quiet for `gap`."""
        gap = self.gap if gap is None else gap
        data = KEYS.get(key, key.encode())
        with self.cond:
            offset = len(self.buf)
        t0 = time.perf_counter()
        self.write(data)
        deadline = t0 + timeout
        with self.cond:
            # Wait for the first byte after the key, then for quiet.
            while len(self.buf) == offset and not self.closed:
                now = time.perf_counter()
                if now >= deadline:
                    return KeySample(key, float("nan"), float("nan"), 0, 0)
                self.cond.wait(deadline - now)
        self.wait_quiet(gap, max(0.0, deadline - time.perf_counter()))
        with self.cond:
            end_offset = len(self.buf)
            frames = [(t, o) for t, o in self.frame_ends if offset < o <= end_offset]
            if frames:
                first, last = frames[0][0], frames[-1][0]
            else:  # no markers: the burst itself is the frame
                first = last = self.chunks[-1][0]
                frames = [(last, end_offset)]
        return KeySample(key, first - t0, last - t0, len(frames), end_offset - offset)

    def rss_kib(self) -> dict[str, int]:
        """VmRSS / VmHWM of the program (kB, from /proc/PID/status)."""
        result: dict[str, int] = {}
        if self.proc is None:
            return result
        try:
            with open(f"/proc/{self.proc.pid}/status") as status:
                for line in status:
                    name, _, value = line.partition(":")
                    if name in ("VmRSS", "VmHWM"):
                        result[name] = int(value.split()[0])
        except OSError:
            pass
        return result

    def idle(self, seconds: float) -> tuple[int, int]:
        """(bytes, frames) written while idle for `seconds`."""
        with self.cond:
            n0, f0 = len(self.buf), len(self.frame_ends)
        time.sleep(seconds)
        with self.cond:
            return len(self.buf) - n0, len(self.frame_ends) - f0

    def idle_frame_times(self, seconds: float) -> list[float]:
        with self.cond:
            f0 = len(self.frame_ends)
        time.sleep(seconds)
        with self.cond:
            return [t for t, _ in self.frame_ends[f0:]]


class TickGuard:
    """Keeps key presses clear of a program's own periodic frames (e.g. a 1 s SLA tick).

    Probe the idle output first; if frames come regularly, `before_key()` waits for the next
    one when the press would otherwise land within `guard` of it, so a tick frame is never
    taken for the frame a key caused.
    """

    def __init__(self, session: PtySession, probe: float = 3.0, guard: float = 0.15) -> None:
        self.session = session
        self.guard = guard
        times = session.idle_frame_times(probe)
        self.period: float | None = None
        if len(times) >= 3:
            diffs = [b - a for a, b in zip(times, times[1:], strict=False)]
            period = statistics.median(diffs)
            if period > 0 and all(abs(d - period) < 0.1 * period + 0.02 for d in diffs):
                self.period = period
        self.last_tick = times[-1] if times else None

    def before_key(self, quiet: float) -> None:
        session = self.session
        session.wait_quiet(quiet, 5.0)
        if self.period is None:
            return
        last = session.last_output_time()
        # The most recent output while idle is the latest tick.
        self.last_tick = last
        next_tick = last + self.period
        if next_tick - time.perf_counter() < self.guard:
            with session.cond:
                n = len(session.buf)
                deadline = time.perf_counter() + self.period + 0.5
                while len(session.buf) == n and time.perf_counter() < deadline:
                    session.cond.wait(0.05)
            session.wait_quiet(quiet, 5.0)


def run_keys(
    session: PtySession,
    keys: Sequence[str],
    *,
    gap: float = 0.05,
    guard: TickGuard | None = None,
    timeout: float = 2.0,
    max_misses: int = 3,
) -> dict[str, KeyStats]:
    """Press `keys` one by one; gives up after `max_misses` presses in a row draw nothing."""
    stats: dict[str, KeyStats] = {}
    misses = 0
    for key in keys:
        if guard is not None:
            guard.before_key(gap)
        else:
            session.wait_quiet(gap, 5.0)
        sample = session.press(key, gap=gap, timeout=timeout)
        stats.setdefault(key, KeyStats(key)).samples.append(sample)
        misses = misses + 1 if sample.frames == 0 else 0
        if misses >= max_misses or not session.alive():
            break
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-sync", action="store_true",
                        help="do not answer DECRQM 2026 (frames by quiescence only)")
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = [a for a in args.argv if a != "--"] or [sys.executable, "bench/bare_app.py", "list"]
    session = PtySession(argv, answer_sync=not args.no_sync)
    session.start()
    t, n, ok = session.first_paint()
    ft, fn = session.first_frame()
    print(f"first frame {ft * 1000:.0f} ms {fn} B; first paint {t * 1000:.0f} ms {n} B "
          f"(settled={ok}, sync answered {session.sync_answered}x, "
          f"{len(session.frame_ends)} marked frames)")
    stats = run_keys(session, ["j"] * args.presses + ["k"] * args.presses)
    for key, s in stats.items():
        print(f"{key}: median {s.median_ms:.1f} ms p99 {s.p99_ms:.1f} ms "
              f"settled median {s.settled_median_ms:.1f} ms, {s.median_bytes:.0f} B/press")
    print("rss", session.rss_kib())
    print("exit", session.stop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
