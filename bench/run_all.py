"""Comptoir against a bare Textual app, in one run so the ratios compare like with like.

    .venv/bin/python bench/run_all.py            # full run (about 10 minutes on 2 cores)
    .venv/bin/python bench/run_all.py --quick    # small iterations (about 2 minutes)

Builds bench/out/seed-1000.db and bench/out/seed-1000000.db with `comptoir seed` (reused when
present; delete them to rebuild), then runs every program in a 120x40 pty (bench/pty_harness.py)
and prints: metric, bare, comptoir@1k, comptoir@1M, comptoir@1M in lowbw, ratio, target.

Figures, never pass/fail: the machine is noisy. The ratio column is comptoir@1M / bare (or
1M / 1k where the target says so); "ok"/"OVER" beside it only reads the number against the
issue's target.

Bare programs (bench/bare_app.py): `hello` (Static + Footer) for first paint, memory and idle
output; `list` (one focused Line-API widget, j/k move a highlighted line) for keys.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from pty_harness import KeyStats, PtySession, TickGuard, run_keys  # noqa: E402

PYTHON = sys.executable
KIB = 1024


@dataclass
class Result:
    name: str
    first_paint_ms: list[float] = field(default_factory=list)
    first_paint_bytes: list[int] = field(default_factory=list)
    first_frame_ms: list[float] = field(default_factory=list)
    first_frame_bytes: list[int] = field(default_factory=list)
    rss_kib: int | None = None
    hwm_kib: int | None = None
    keys: dict[str, KeyStats] = field(default_factory=dict)
    idle_bytes: int | None = None
    idle_frames: int | None = None
    idle_seconds: float = 0.0
    idle_largest: int | None = None
    tick_period: float | None = None
    errors: list[str] = field(default_factory=list)

    def med(self, values: list[float] | list[int]) -> float:
        return statistics.median(values) if values else float("nan")

    def key_pair(self, a: str, b: str) -> KeyStats:
        merged = KeyStats(f"{a}/{b}")
        for key in (a, b):
            if key in self.keys:
                merged.samples += self.keys[key].samples
        return merged


def comptoir_argv(db: Path, theme: str | None) -> list[str]:
    argv = [PYTHON, "-m", "console", "--db", str(db)]
    if theme:
        argv += ["--theme", theme]
    return argv


def bench_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["COMPTOIR_HOME"] = str(home)  # no user config.toml, no user keymap
    env["PYTHONPATH"] = str(ROOT)
    for name in list(env):
        if name.startswith("TEXTUAL_"):
            env.pop(name)
    return env


def ensure_db(out: Path, mentions: int, env: dict[str, str]) -> Path | None:
    path = out / f"seed-{mentions}.db"
    if path.exists():
        print(f"reusing {path} ({path.stat().st_size / KIB / KIB:.0f} MiB)", flush=True)
        return path
    tmp = out / f".seeding-{mentions}.db"
    for stale in out.glob(f".seeding-{mentions}.db*"):
        stale.unlink()
    print(f"seeding {mentions:,} mentions into {path} ...", flush=True)
    started = time.perf_counter()
    seeded = subprocess.run([PYTHON, "-m", "console", "seed", "--mentions", str(mentions),
                             "--db", str(tmp)], cwd=ROOT, env=env, capture_output=True, text=True)
    if seeded.returncode != 0:
        for partial in out.glob(f".seeding-{mentions}.db*"):
            partial.unlink()
        print(f"  seeding failed ({seeded.returncode}): {seeded.stderr.strip()[-400:]}",
              flush=True)
        return None
    print(f"  {seeded.stdout.strip()}", flush=True)
    for suffix in ("-wal", "-shm"):
        leftover = Path(str(tmp) + suffix)
        if leftover.exists() and leftover.stat().st_size:
            raise SystemExit(f"{leftover} is not empty after seeding; not caching {path}")
        leftover.unlink(missing_ok=True)
    tmp.rename(path)
    print(f"  {time.perf_counter() - started:.1f} s, {path.stat().st_size / KIB / KIB:.0f} MiB",
          flush=True)
    return path


def tail(session: PtySession, n: int = 600) -> str:
    text = bytes(session.buf[-n:]).decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() or ch == "\n" else "." for ch in text)


def first_paint(result: Result, argv: list[str], env: dict[str, str], settle: float) -> None:
    session = PtySession(argv, env=env, cwd=str(ROOT))
    session.start()
    try:
        t, n, ok = session.first_paint(settle=settle, timeout=60)
        if not session.alive():
            result.errors.append(f"exited {session.proc.returncode}: {tail(session)}")
            return
        if not ok:
            result.errors.append("first paint never settled (60 s)")
        ft, fn = session.first_frame()
        result.first_paint_ms.append(t * 1000)
        result.first_paint_bytes.append(n)
        result.first_frame_ms.append(ft * 1000)
        result.first_frame_bytes.append(fn)
    finally:
        session.stop()


def session_run(result: Result, argv: list[str], env: dict[str, str], args: argparse.Namespace,
                *, keys: bool, idle: bool, settle: float) -> None:
    """Memory after settling, then keys (j/k, pagedown/pageup), then idle output."""
    session = PtySession(argv, env=env, cwd=str(ROOT), gap=args.gap)
    session.start()
    try:
        session.first_paint(settle=settle, timeout=60)
        if not session.alive():
            result.errors.append(f"exited {session.proc.returncode}: {tail(session)}")
            return
        time.sleep(1.0)  # let timers start, workers finish, the allocator settle
        mem = session.rss_kib()
        result.rss_kib, result.hwm_kib = mem.get("VmRSS"), mem.get("VmHWM")
        if keys:
            guard = TickGuard(session, probe=args.probe, beat_hint=args.beat)
            result.tick_period = guard.period
            # In-page cursor moves: 15 down, 15 up, so the cursor never leaves the first screen
            # (a 1k database has about 80 to-do rows; the view shows 38).
            cycle = [("move j", "j")] * 15 + [("move k", "k")] * 15
            plan = (cycle * (args.presses // 15 + 1))[: 2 * args.presses]
            stats = run_keys(session, plan, gap=args.gap, guard=guard)
            # Cursor moves that scroll the list one line: first walk to the bottom of the view.
            plan = [("to bottom", "j")] * 37 + [("scroll j", "j")] * args.scroll
            stats |= run_keys(session, plan, gap=args.gap, guard=guard)
            # Pages: back to the top, then down, down, up, up, ...: never a press at the end.
            plan = [("to top", "g")] + (
                [("page down", "pagedown")] * 2 + [("page up", "pageup")] * 2
            ) * (args.pages // 2 + 1)
            stats |= run_keys(session, plan[: 1 + 2 * args.pages], gap=args.gap, guard=guard)
            result.keys = stats
            if not session.alive():
                result.errors.append(f"died during keys: {tail(session)}")
                return
        if idle:
            time.sleep(2.0)  # steady state: late repaints after the last key are not idling
            session.wait_quiet(args.gap, 5.0)
            n, frames, largest = session.idle(args.idle)
            result.idle_bytes, result.idle_frames, result.idle_seconds = n, frames, args.idle
            result.idle_largest = largest
    finally:
        code = session.stop()
        if code not in (0, None):
            result.errors.append(f"exit code {code} after q")


def fmt(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a != a or b != b or b == 0:
        return None
    return a / b


def verdict(value: float | None, limit: float) -> str:
    if value is None or value != value:
        return ""
    return "ok" if value <= limit else "OVER"


def report(bare: Result, bare_list: Result, c1k: Result, c1m: Result, lowbw: Result) -> str:
    rows: list[tuple[str, ...]] = []

    def add(metric: str, values: list[float | None], unit: str, digits: int,
            rat: float | None, rat_label: str, target: str, ok: str) -> None:
        rows.append((metric, *(fmt(v, unit, digits) for v in values),
                     f"{fmt(rat, 'x', 2)} {rat_label}".strip(), f"{target} {ok}".strip()))

    # First paint.
    fp = [r.med(r.first_paint_ms) for r in (bare, c1k, c1m, lowbw)]
    rat = ratio(fp[2], fp[0])
    add("first paint, settled (ms)", fp, "", 0, rat, "1M/bare", "<=1.6x bare (1M)",
        verdict(rat, 1.6))
    ff = [r.med(r.first_frame_ms) for r in (bare, c1k, c1m, lowbw)]
    add("  first frame (ms)", ff, "", 0, ratio(ff[2], ff[0]), "1M/bare", "", "")
    fb = [r.med(r.first_paint_bytes) for r in (bare, c1k, c1m, lowbw)]
    add("first paint bytes", fb, " B", 0, ratio(fb[2], fb[0]), "1M/bare",
        "<=40 KB", f"{verdict(fb[2], 40 * KIB)} / lowbw {verdict(fb[3], 40 * KIB)}")

    # Keys: the bare column is the list app.
    kr = (bare_list, c1k, c1m, lowbw)
    jk = [r.key_pair("move j", "move k") for r in kr]
    med = [s.median_ms if s.samples else None for s in jk]
    rat = ratio(med[2], med[0])
    add("key j/k in page, median (ms)", med, "", 2, rat, "1M/bare", "<=2x bare", verdict(rat, 2.0))
    p99 = [s.p99_ms if s.samples else None for s in jk]
    add("key j/k in page, p99 (ms)", p99, "", 2, ratio(p99[2], p99[0]), "1M/bare", "<=16 ms",
        f"1k {verdict(p99[1], 16)} / 1M {verdict(p99[2], 16)}")
    r1m1k = ratio(med[2], med[1])
    add("key j/k median 1M vs 1k", [None, None, None, None], "", 2, r1m1k, "1M/1k",
        "within 10%", "" if r1m1k is None else ("ok" if abs(r1m1k - 1) <= 0.10 else "OVER"))
    sm = [s.settled_median_ms if s.samples else None for s in jk]
    add("  j/k settled median (ms)", sm, "", 2, ratio(sm[2], sm[0]), "1M/bare",
        "(last frame before quiet)", "")
    sp = [s.settled_p99_ms if s.samples else None for s in jk]
    add("  j/k settled p99 (ms)", sp, "", 2, ratio(sp[2], sp[0]), "1M/bare", "", "")
    cb = [s.median_bytes if s.samples else None for s in jk]
    add("bytes per cursor move, all", cb, " B", 0, ratio(cb[2], cb[0]), "1M/bare", "<=600 B",
        f"{verdict(cb[2], 600)} / lowbw {verdict(cb[3], 600)}")
    cf = [s.median_first_bytes if s.samples else None for s in jk]
    add("  first frame only", cf, " B", 0, ratio(cf[2], cf[0]), "1M/bare", "<=600 B",
        f"{verdict(cf[2], 600)} / lowbw {verdict(cf[3], 600)}")
    fr = [statistics.median([x.frames for x in s.samples if x.frames]) if s.samples else None
          for s in jk]
    add("  frames per cursor move", fr, "", 1, None, "", "", "")
    sc = [r.key_pair("scroll j", "-") for r in kr]
    smed = [s.median_ms if s.samples else None for s in sc]
    add("key j scrolling a line, median (ms)", smed, "", 2, ratio(smed[2], smed[0]), "1M/bare",
        "", "")
    sp99 = [s.p99_ms if s.samples else None for s in sc]
    add("  scrolling p99 (ms)", sp99, "", 2, ratio(sp99[2], sp99[0]), "1M/bare", "<=16 ms",
        f"1k {verdict(sp99[1], 16)} / 1M {verdict(sp99[2], 16)}")
    sb = [s.median_first_bytes if s.samples else None for s in sc]
    add("  scrolling, first frame bytes", sb, " B", 0, ratio(sb[2], sb[0]), "1M/bare", "", "")
    pg = [r.key_pair("page down", "page up") for r in kr]
    pmed = [s.median_ms if s.samples else None for s in pg]
    rat = ratio(pmed[2], pmed[0])
    add("page down/up median (ms)", pmed, "", 2, rat, "1M/bare", "<=3x bare", verdict(rat, 3.0))
    pp = [s.p99_ms if s.samples else None for s in pg]
    add("page down/up p99 (ms)", pp, "", 2, ratio(pp[2], pp[0]), "1M/bare", "", "")
    psm = [s.settled_median_ms if s.samples else None for s in pg]
    add("  page settled median (ms)", psm, "", 2, ratio(psm[2], psm[0]), "1M/bare", "", "")
    pb = [s.median_bytes if s.samples else None for s in pg]
    add("bytes per page move", pb, " B", 0, ratio(pb[2], pb[0]), "1M/bare", "", "")

    # Memory and idle output: the bare column is the hello app.
    rss = [None if r.rss_kib is None else r.rss_kib / KIB for r in (bare, c1k, c1m, lowbw)]
    add("RSS after settling (MiB)", rss, "", 1, ratio(rss[2], rss[0]), "1M/bare",
        "<=60 MiB (1M)", verdict(rss[2], 60))
    hwm = [None if r.hwm_kib is None else r.hwm_kib / KIB for r in (bare, c1k, c1m, lowbw)]
    add("  peak RSS VmHWM (MiB)", hwm, "", 1, ratio(hwm[2], hwm[0]), "1M/bare", "", "")
    krss = [None if r.rss_kib is None else r.rss_kib / KIB for r in kr]
    add("  RSS, keys app (MiB)", krss, "", 1, None, "", "(bare = list app)", "")
    idle = [None if r.idle_bytes is None else r.idle_bytes / r.idle_seconds
            for r in (bare, c1k, c1m, lowbw)]
    add("idle bytes/s", idle, "", 1, ratio(idle[3], idle[0]), "lowbw/bare",
        "<=1 KB/s (lowbw)", verdict(idle[3], 1024))
    ifr = [None if r.idle_frames is None else r.idle_frames / r.idle_seconds
           for r in (bare, c1k, c1m, lowbw)]
    add("  idle frames/s", ifr, "", 2, None, "", "", "")
    big = [r.idle_largest for r in (bare, c1k, c1m, lowbw)]
    add("  largest idle frame", big, " B", 0, None, "", "", "")

    header = ("metric", "bare", "comptoir@1k", "comptoir@1M", "1M lowbw", "ratio", "target")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i in (0, 5, 6) else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Comptoir vs bare Textual, in a pty")
    parser.add_argument("--quick", action="store_true", help="small iterations")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--sizes", default="1000,1000000",
                        help="two database sizes, small,large (default 1000,1000000)")
    parser.add_argument("--gap", type=float, default=0.15,
                        help="quiet time (s) that ends a key's burst of frames")
    parser.add_argument("--settle", type=float, default=0.5,
                        help="quiet time (s) that ends the first paint")
    parser.add_argument("--beat", type=float, default=1.0,
                        help="the app's timer period (s), when idle frames skip beats "
                             "(Comptoir's heartbeat: 1 s)")
    parser.add_argument("--db-small", type=Path, help="use this database instead of seeding")
    parser.add_argument("--db-large", type=Path, help="use this database instead of seeding")
    parser.add_argument("--skip-comptoir", action="store_true", help="bare apps only")
    args = parser.parse_args()
    args.presses = 20 if args.quick else 100  # per key: j then k
    args.pages = 8 if args.quick else 30  # per key: pagedown then pageup
    args.scroll = 10 if args.quick else 30  # j presses that scroll the list by a line
    args.idle = 5.0 if args.quick else 20.0
    args.probe = 5.0
    repeats = 2 if args.quick else 5
    small, large = (int(n) for n in args.sizes.split(","))

    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="comptoir-bench-home-"))
    env = bench_env(home)
    try:
        db_small = db_large = None
        if not args.skip_comptoir:
            db_small = args.db_small or ensure_db(args.out, small, env)
            db_large = args.db_large or ensure_db(args.out, large, env)
        bare = Result("bare hello")
        bare_list = Result("bare list")
        c1k, c1m, lowbw = Result("comptoir small"), Result("comptoir large"), Result("lowbw")
        programs: list[tuple[Result, list[str]]] = [
            (bare, [PYTHON, str(HERE / "bare_app.py"), "hello"]),
        ]
        if db_small is not None:
            programs.append((c1k, comptoir_argv(db_small, None)))
        if db_large is not None:
            programs += [(c1m, comptoir_argv(db_large, None)),
                         (lowbw, comptoir_argv(db_large, "lowbw"))]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, pty 120x40, "
              f"{repeats} first-paint runs each, {args.presses}+{args.presses} j/k, "
              f"{args.pages}+{args.pages} pagedown/pageup, idle {args.idle:.0f} s", flush=True)
        # First paint: interleaved rounds, so background noise hits every program alike.
        for round_no in range(repeats):
            for result, argv in programs:
                first_paint(result, argv, env, args.settle)
            print(f"  first-paint round {round_no + 1}/{repeats} done", flush=True)
        session_run(bare, programs[0][1], env, args, keys=False, idle=True, settle=args.settle)
        session_run(bare_list, [PYTHON, str(HERE / "bare_app.py"), "list"], env, args,
                    keys=True, idle=False, settle=args.settle)
        print("  bare sessions done", flush=True)
        for result, argv in programs[1:]:
            session_run(result, argv, env, args, keys=True, idle=True, settle=args.settle)
            print(f"  {result.name} session done", flush=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print()
    print(f"Columns: bare = bench/bare_app.py (hello for paint/memory/idle, list for keys); "
          f"comptoir@1k/1M = {small:,}/{large:,} mentions, default theme; "
          f"1M lowbw = {large:,} with --theme lowbw.")
    print(report(bare, bare_list, c1k, c1m, lowbw))
    for r in (bare, bare_list, c1k, c1m, lowbw):
        extra = []
        if r.tick_period:
            extra.append(f"idle frames on a {r.tick_period:.3f} s beat (keys timed clear of it)")
        lost = sum(s.timeouts for s in r.keys.values())
        if lost:
            extra.append(f"{lost} key presses drew nothing within 2 s")
        if r.errors:
            extra.append("errors: " + " | ".join(r.errors))
        if extra:
            print(f"  {r.name}: " + "; ".join(extra))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dump = args.out / f"results-{stamp}.json"
    dump.write_text(json.dumps({
        r.name: {
            "first_paint_ms": r.first_paint_ms, "first_paint_bytes": r.first_paint_bytes,
            "first_frame_ms": r.first_frame_ms, "first_frame_bytes": r.first_frame_bytes,
            "rss_kib": r.rss_kib, "hwm_kib": r.hwm_kib, "idle_bytes": r.idle_bytes,
            "idle_frames": r.idle_frames, "idle_seconds": r.idle_seconds,
            "tick_period": r.tick_period, "errors": r.errors,
            "keys": {k: [[s.latency, s.settled, s.frames, s.nbytes, s.first_nbytes]
                          for s in v.samples]
                     for k, v in r.keys.items()},
        } for r in (bare, bare_list, c1k, c1m, lowbw)
    }, indent=1))
    print(f"raw samples: {dump}")
    if db_large is not None:
        # The stats reports (issue target: all of them for 1M mentions in <= 1 s).
        print(f"\nstats reports on {db_large} (bench/bench_stats.py):", flush=True)
        subprocess.run([PYTHON, str(HERE / "bench_stats.py"), "--db", str(db_large),
                        "--runs", "3" if args.quick else "5"], cwd=ROOT, env=env, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
