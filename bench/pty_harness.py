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
import contextlib
import fcntl
import itertools
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
    nbytes: int  # everything written until quiet
    first_nbytes: int  # up to the end of the first frame


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
    def median_first_bytes(self) -> float:
        values = self._values("first_nbytes")
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
            with contextlib.suppress(OSError):
                self.write(quit_key)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(2.0)
        self._reader.join(2.0)
        with contextlib.suppress(OSError):
            os.close(self.master)
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

    def press(
        self, key: str, *, gap: float | None = None, timeout: float = 5.0,
        first_by: float | None = None,
    ) -> KeySample:
        """Write one key; time the frames it causes until the output is quiet for `gap`.

        `first_by` (a perf_counter time): if nothing at all is written by then, the press is a
        miss (frames=0); a TickGuard uses it so a tick frame is never taken for the key's.
        """
        gap = self.gap if gap is None else gap
        data = KEYS.get(key, key.encode())
        with self.cond:
            offset = len(self.buf)
        t0 = time.perf_counter()
        self.write(data)
        deadline = t0 + timeout
        first_deadline = deadline if first_by is None else min(deadline, first_by)
        with self.cond:
            # Wait for the first byte after the key, then for quiet.
            while len(self.buf) == offset and not self.closed:
                now = time.perf_counter()
                if now >= first_deadline:
                    return KeySample(key, float("nan"), float("nan"), 0, 0, 0)
                self.cond.wait(first_deadline - now)
        self.wait_quiet(gap, max(0.0, deadline - time.perf_counter()))
        with self.cond:
            end_offset = len(self.buf)
            frames = [(t, o) for t, o in self.frame_ends if offset < o <= end_offset]
            if not frames:  # no markers: the burst itself is the frame
                frames = [(self.chunks[-1][0], end_offset)]
        (first, first_end), last = frames[0], frames[-1][0]
        return KeySample(key, first - t0, last - t0, len(frames), end_offset - offset,
                         first_end - offset)

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

    def idle(self, seconds: float) -> tuple[int, int, int]:
        """(bytes, frames, largest frame in bytes) written while idle for `seconds`."""
        with self.cond:
            n0, f0 = len(self.buf), len(self.frame_ends)
        time.sleep(seconds)
        with self.cond:
            ends = [n0] + [o for _, o in self.frame_ends[f0:]]
            largest = max((b - a for a, b in itertools.pairwise(ends)), default=0)
            return len(self.buf) - n0, len(self.frame_ends) - f0, largest

    def idle_frame_times(self, seconds: float) -> list[float]:
        with self.cond:
            f0 = len(self.frame_ends)
        time.sleep(seconds)
        with self.cond:
            return [t for t, _ in self.frame_ends[f0:]]


class TickGuard:
    """Keeps key presses clear of a program's own periodic frames (e.g. a 1 s SLA tick).

    The idle output is probed first. If its frames come on a regular beat (every P seconds,
    possibly skipping beats: Comptoir only repaints when an SLA label changes), the beat's
    phase is the earliest of the frame times modulo P (render delay only ever adds). Then
    `before_key()` waits out the next beat when it is less than `guard` away, and returns the
    time of the beat after that: a press that has drawn nothing by then is a miss, never a tick
    frame taken for the key's. Without a beat, keys are only spaced by quiet.
    """

    def __init__(self, session: PtySession, probe: float = 4.0, guard: float = 0.3,
                 beat_hint: float | None = None) -> None:
        self.session = session
        self.guard = guard
        session.wait_quiet(session.gap, 5.0)
        times = session.idle_frame_times(probe)
        self.period: float | None = None
        self.phase = 0.0
        self.idle_frames = len(times)
        if len(times) >= 2:
            diffs = [b - a for a, b in itertools.pairwise(times)]
            base = min(diffs)
            if base > 2 * guard and all(
                abs(d / base - round(d / base)) < 0.08 for d in diffs
            ):
                # Refine the beat: total span over the number of beats it covers.
                beats = round((times[-1] - times[0]) / base)
                self.period = (times[-1] - times[0]) / beats
                if beat_hint and abs(base / beat_hint - round(base / beat_hint)) < 0.08:
                    # Frames skip beats (no label changed): the timer runs on the hint.
                    self.period = self.period / round(base / beat_hint)
                self.phase = min(t - round((t - times[0]) / self.period) * self.period
                                 for t in times)
        elif times:
            # One frame only: maybe a slow beat. Guard against it being taken for a key's.
            self.phase = times[0]

    def next_beat(self, now: float) -> float | None:
        if self.period is None:
            return None
        beats = -(-(now - self.phase) // self.period)
        return self.phase + beats * self.period

    def before_key(self, quiet: float) -> float | None:
        session = self.session
        session.wait_quiet(quiet, 5.0)
        beat = self.next_beat(time.perf_counter())
        if beat is None:
            return None
        if beat - time.perf_counter() < self.guard:
            time.sleep(max(0.0, beat - time.perf_counter()) + 0.02)
            session.wait_quiet(quiet, 5.0)
            beat = self.next_beat(time.perf_counter())
        return beat


def run_keys(
    session: PtySession,
    keys: Sequence[str | tuple[str, str]],
    *,
    gap: float = 0.05,
    guard: TickGuard | None = None,
    timeout: float = 2.0,
    max_misses: int = 3,
) -> dict[str, KeyStats]:
    """Press `keys` one by one (a key, or (label, key) to file samples under a label).

    Gives up after `max_misses` presses in a row draw nothing.
    """
    stats: dict[str, KeyStats] = {}
    misses = 0
    for item in keys:
        label, key = (item, item) if isinstance(item, str) else item
        first_by = None
        if guard is not None:
            first_by = guard.before_key(gap)
        else:
            session.wait_quiet(gap, 5.0)
        sample = session.press(key, gap=gap, timeout=timeout, first_by=first_by)
        stats.setdefault(label, KeyStats(label)).samples.append(sample)
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
