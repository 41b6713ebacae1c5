"""Many people at once: N chromium sessions browse IMS Invoices, Reconciliation and the Dashboard
of the app as ./run.sh serves it, while the worker fetches and syncs, and the app's health is
asked every second.

    .venv/bin/python -m bench.sessions [--sessions 8] [--seconds 180] [--scale 3000] [--reload]
                                       [--think SECONDS] [--ramp SECONDS]
    .venv/bin/python -m bench.sessions --cost 5 [--reload]   # CPU per page view, one session

1. Start the sandbox (`--scale` IMS records per business) and a fresh store: the business
   fetched, its books imported, synced; then `app/serve.py` on a free port (its log, with
   any incident's details, in bench/out/sessions/app.log).
2. For `--seconds`: `--sessions` browser contexts (one chromium, Playwright's async API) each
   open the three pages in turn, the first by its address and the next ones with the
   sidebar's links as a person moves (the app stays loaded; `--reload`: every page by its
   address, a full page load each time, the whole app's scripts again), and time each until
   its title and its last part are drawn (the page's script has run to its end) and nothing
   is running. By default each session clicks the next page the instant one is drawn, and all
   first loads start at once (a stress case); `--think S`: a person reads each page S seconds
   before the next click; `--ramp S`: the sessions' first loads spread evenly over S seconds
   (as people arrive). A thread
   asks `/_stcore/health` every second; another runs `worker.py fetch` then `worker.py sync`
   over and over.
3. Print a RESULT line: pages opened, the slowest page, p50/p90/max seconds per page, health
   answers missed and the longest gap between two answers, the pages that stopped before
   their end (with their words), CPU seconds by part (app server,
   browser, worker, sandbox, this bench) and the load average, the worker's runs and how many
   failed, and how often and how long the app server and the worker waited for the store file
   (`IMS_DB_HOLD_LOG`), with each one's longest hold of it; `think_s` and `ramp_s` as given,
   and each part's niceness as seen (`niceness_by_part`: the worker below people,
   `IMS_WORKER_NICE`).

`--cost VIEWS`: instead of step 2, one session and no worker open each page VIEWS times (with
the sidebar from the page before, or `--reload`); the browser's and the app server's CPU
seconds per page view (where a page's cost lies: in the browser, docs/reliability.md;
`bench/browser_cpu.py` splits the browser's part).

The browser test tests/test_sessions_browser.py runs the same with 2 sessions for 30 s (the
two-user freeze of issue 29 happened within seconds); docs/reliability.md quotes the 8-session
run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import requests
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

from core.business.registry import save_business
from core.ims.fetch import fetch_business
from core.ims.sync import apply_sync
from core.purchase import import_purchase_file
from sandbox.generate import generate_files
from tests.fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    running_app,
    start_sandbox,
    stop_sandbox,
    store_env,
    temporary_env,
)

ROOT = Path(__file__).resolve().parents[1]
GSTIN = "27AAACW1234K1ZD"
# (path, title, the page's last part: drawn when its script has run to the end)
PAGES = (("ims_invoices", "IMS Invoices", ("button", "Download all records (CSV)")),
         ("reconciliation", "Reconciliation", ("button", "Download Excel")),
         ("dashboard", "Dashboard", ("text", "Backups:")))
# The Dashboard is the app's default page: its address is the app's own ("/dashboard" shows
# Streamlit's "Page not found" box over it).
ADDRESS = {"dashboard": ""}
STOPPED_WORDS = re.compile("this page stopped|The worker may be writing|has run yet")
BUSY = '[data-testid="stSkeleton"], [data-testid="stStatusWidget"], [data-stale="true"]'


def prepare_store(work: Path, sandbox_url: str, scale: int) -> str:
    """A store with the business fetched from the sandbox, its books imported, synced."""
    db = str(work / "ims.duckdb")
    with temporary_env(GSTN_API_URL=sandbox_url), store_env(db):
        save_business(GSTIN, "Western Agro Industries Ltd", "bench")
        fetch_business(GSTIN)
        books = generate_files(work / "books", records=scale, seed=7, gstin=GSTIN)
        assert import_purchase_file(books["purchase_register"], actor="bench",
                                    company_gstin=GSTIN).ok
        apply_sync(GSTIN)
    return db


async def open_page(page, url: str, path: str, title: str, last: tuple[str, str],
                    by_sidebar: bool = False) -> tuple[float, str | None]:
    """Open a page with the sidebar's link (`by_sidebar`) or a full page load (page.goto):
    (seconds from asking for a page until its title and its last part are drawn and nothing
    is still running, None), or (seconds, the words) when the page stopped before its end. (Until the title alone, as before: Streamlit shows that it is running
    only after a moment, so the time often ended while the script still ran, and the next
    page then cut that run short.)"""
    start = time.monotonic()
    if by_sidebar:        # as a person moves: the app stays loaded, no reload
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    else:                 # a full page load: the whole app's scripts again
        await page.goto(f"{url}/{ADDRESS.get(path, path)}")
    await page.get_by_role("heading", name=title).first.wait_for(timeout=60000)
    kind, words = last
    part = (page.get_by_role("button", name=words) if kind == "button"
            else page.get_by_text(words))
    stopped = page.get_by_text(STOPPED_WORDS)    # an incident, the store busy, no run yet
    try:
        await part.or_(stopped).first.wait_for(timeout=60000)
    except PlaywrightTimeout:
        alerts = await page.locator('[data-testid="stAlert"]').all_inner_texts()
        return time.monotonic() - start, f"not drawn to its end in 60 s; alerts: {alerts}"
    if await stopped.count():
        return time.monotonic() - start, await stopped.first.inner_text()
    for _ in range(300):
        if not await page.locator(BUSY).count():
            break
        await page.wait_for_timeout(100)
    await part.first.wait_for(timeout=60000)   # this page's, not the page before's (sidebar)
    if await page.locator('[data-testid="stException"]').count():
        raise AssertionError(f"{path} showed an exception")
    return time.monotonic() - start, None


class Pace(NamedTuple):
    """How people move: `think` seconds reading a page once it is drawn before their next
    click (0: at once), and their first loads spread evenly over `ramp` seconds (0: all at
    once)."""
    think: float = 0.0
    ramp: float = 0.0

    def first_load_after(self, person: int, sessions: int) -> float:
        """Seconds person `person` of `sessions` waits before their first page."""
        return self.ramp * person / sessions if sessions else 0.0


AT_ONCE = Pace()      # the default: no reading time, every first load at once


async def one_person(browser, url: str, until: float, person: int, times: list,
                     problems: list, reload: bool = False, firsts: list | None = None,
                     pace: Pace = AT_ONCE, sessions: int = 1) -> None:
    """One person's pages in turn: the first by its address, the others with the sidebar
    (`reload`: each by its address, a full page load), reading each for `pace.think` seconds;
    their first page after their place in `pace.ramp`. Each first opening is also put in
    `firsts`."""
    firsts = [] if firsts is None else firsts
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    turn = person
    await asyncio.sleep(pace.first_load_after(person, sessions))
    try:
        while time.monotonic() < until:
            path, title, last = PAGES[turn % len(PAGES)]
            seconds, stopped = await open_page(page, url, path, title, last,
                                               by_sidebar=turn > person and not reload)
            if stopped:
                problems.append((path, round(seconds, 2), stopped[:200]))
            else:
                times.append((path, seconds))
                if turn == person:
                    firsts.append((path, seconds))
            turn += 1
            if pace.think:                       # a person reads the page before the next click
                await asyncio.sleep(min(pace.think, max(0.0, until - time.monotonic())))
    finally:
        await context.close()


async def browse_together(url: str, sessions: int, seconds: float, cpu_last: dict,
                          problems: list, reload: bool = False,
                          firsts: list | None = None,
                          pace: Pace = AT_ONCE) -> list[tuple[str, float]]:
    """(page, seconds) of every page the sessions opened to its end; a page that stopped
    before (an incident, the store busy) goes to `problems` as (page, seconds, its words).
    The browser's CPU is read into `cpu_last` before it closes."""
    times: list[tuple[str, float]] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        until = time.monotonic() + seconds
        await asyncio.gather(*(one_person(browser, url, until, i, times, problems, reload, firsts,
                                          pace, sessions)
                               for i in range(sessions)))
        remember_cpu(cpu_last)
        await browser.close()
    return times


def watch_health(url: str, stop: threading.Event, answers: list) -> None:
    """Ask the app's health every second: (time, answered in time?)."""
    while not stop.is_set():
        asked = time.monotonic()
        try:
            ok = requests.get(f"{url}/_stcore/health", timeout=5).status_code == 200
        except requests.RequestException:
            ok = False
        answers.append((asked, ok))
        stop.wait(max(0.0, 1.0 - (time.monotonic() - asked)))


def run_worker(db: str, sandbox_url: str, stop: threading.Event, runs: list) -> None:
    """`worker.py fetch` then `worker.py sync`, over and over: (command, exit status, output,
    CPU seconds)."""
    env = {**os.environ, "IMS_DB_PATH": db, "GSTN_API_URL": sandbox_url, "IMS_DB_HOLD_LOG": "1"}
    while not stop.is_set():
        for command in ("fetch", "sync"):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run([sys.executable, "worker.py", command, "--gstin", GSTIN],
                                  cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=600, check=False)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            runs.append((command, done.returncode, done.stdout + done.stderr, cpu))


def percentile(seconds: list[float], q: float) -> float:
    """Nearest-rank percentile `q` (0..1) of sorted `seconds`."""
    return round(seconds[min(len(seconds) - 1, int(q * len(seconds)))], 2)


def later_views(times: list[tuple[str, float]], firsts: list[tuple[str, float]]) -> list:
    """`times` without each session's first opening (a cold page load, all sessions at once)."""
    left = list(times)
    for first in firsts:
        left.remove(first)
    return left


def page_time_spread(times: list[tuple[str, float]]) -> dict:
    """Per page: [p50, p90, max] seconds of its openings."""
    spread = {}
    for path in sorted({p for p, _ in times}):
        seconds = sorted(s for p, s in times if p == path)
        spread[path] = [percentile(seconds, 0.5), percentile(seconds, 0.9), seconds[-1]]
    return spread


# a process starts at its parent's niceness; the worker lowers its own within its first 0.02 s
# of CPU (before its imports): its niceness is read once it has run this long
SETTLED_CPU_S = 0.3
PARTS = (("chrom", "browser"), ("playwright", "browser"), ("streamlit", "app"),
         ("worker.py", "worker-sampled"), ("-m sandbox", "sandbox"))   # chromium: --no-sandbox


def descendants_cpu(niceness: dict | None = None) -> dict[int, tuple[str, float]]:
    """{pid: (part, CPU seconds so far)} of this process's descendants, read from /proc; with
    `niceness`, each part's niceness values seen are added to it ({part: set}), from the
    processes that have run `SETTLED_CPU_S` of CPU."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, seen = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        part = next((name for word, name in PARTS if word in cmd), "other")
        seen[pid] = (part, (int(fields[11]) + int(fields[12])) / tick, int(fields[16]))
    mine, ours = {}, {os.getpid()}
    for pid in sorted(parent):   # children usually have larger pids; a second pass catches others
        if parent[pid] in ours:
            ours.add(pid)
    for pid in sorted(parent):
        if parent[pid] in ours:
            ours.add(pid)
    for pid in ours - {os.getpid()}:
        part, cpu, nice = seen[pid]
        mine[pid] = (part, cpu)
        if niceness is not None and cpu >= SETTLED_CPU_S:
            niceness.setdefault(part, set()).add(nice)
    return mine


def remember_cpu(last: dict, niceness: dict | None = None) -> None:
    """Add the descendants' CPU so far to `last` (a process keeps the part it was first seen
    as: an exiting one loses its command line); with `niceness`, the niceness seen by part."""
    for pid, (part, seconds) in descendants_cpu(niceness).items():
        known = last.get(pid, ("other", 0.0))[0]
        last[pid] = (part if known == "other" else known, seconds)


def watch_cpu(stop: threading.Event, last: dict, niceness: dict | None = None) -> None:
    """Every 2 s, the CPU so far of each descendant (the last reading of one that exits), and
    the niceness of each part (the worker runs below people: IMS_WORKER_NICE)."""
    while not stop.is_set():
        remember_cpu(last, niceness)
        stop.wait(2)


def cpu_by_part(start: dict, last: dict, own_s: float) -> dict:
    """CPU seconds spent during the run, by part (app server, browser, sandbox; the worker's
    runs are counted exactly by `run_worker`, `worker-sampled` is what 2 s samples saw)."""
    spent: dict[str, float] = {"bench": own_s}
    for pid, (part, seconds) in last.items():
        spent[part] = spent.get(part, 0.0) + seconds - start.get(pid, (part, 0.0))[1]
    return {part: round(seconds, 1) for part, seconds in sorted(spent.items())}


def store_waits(log: str) -> dict:
    """From IMS_DB_HOLD_LOG's lines at exit (core/store/database.py): how often and how long a
    process waited for the store file, and its longest hold of the file."""
    waits = re.findall(r"^WAITED (\d+) times ([\d.]+) s", log, re.MULTILINE)
    holds = [float(s) for s in re.findall(r"^HOLD file ([\d.]+) s", log, re.MULTILINE)]
    return {"waits": sum(int(n) for n, _ in waits),
            "waited_s": round(sum(float(s) for _, s in waits), 1),
            "longest_file_hold_s": max(holds, default=None)}


def measure(url: str, db: str, sandbox_url: str, sessions: int, seconds: float,
            reload: bool = False, pace: Pace = AT_ONCE) -> dict:
    """Browse with `sessions` people for `seconds` while the worker runs; the figures."""
    stop = threading.Event()
    answers: list = []
    runs: list = []
    problems: list = []
    firsts: list = []
    cpu_start, cpu_last, own = descendants_cpu(), {}, time.process_time()
    load_start = [round(x, 1) for x in os.getloadavg()]
    niceness: dict = {}
    cpu = threading.Thread(target=watch_cpu, args=(stop, cpu_last, niceness), daemon=True)
    cpu.start()
    health = threading.Thread(target=watch_health, args=(url, stop, answers), daemon=True)
    worker = threading.Thread(target=run_worker, args=(db, sandbox_url, stop, runs), daemon=True)
    health.start()
    worker.start()
    try:
        times = asyncio.run(browse_together(url, sessions, seconds, cpu_last, problems,
                                            reload, firsts, pace))
    finally:
        stop.set()
        health.join(timeout=10)
        worker.join(timeout=600)
    remember_cpu(cpu_last)
    asked = [t for t, _ in answers]
    gaps = [b - a for a, b in pairwise(asked)]
    return {"sessions": sessions, "seconds": seconds, "reload": reload,
            "think_s": pace.think, "ramp_s": pace.ramp,
            "load_average_start": load_start, "pages": len(times),
            "slowest_page_s": round(max((s for _, s in times), default=0.0), 2),
            "slowest_by_page": {p: round(max(s for q, s in times if q == p), 2)
                                for p in {q for q, _ in times}},
            "by_page_p50_p90_max_s": page_time_spread(times),
            "pages_over_10_s": sum(s > 10 for _, s in times),
            "first_views_s": sorted(round(s, 1) for _, s in firsts),
            "later_views_p50_p90_max_s": page_time_spread(later_views(times, firsts)),
            "pages_stopped": problems,
            "health_asked": len(answers), "health_missed": sum(not ok for _, ok in answers),
            "longest_health_gap_s": round(max(gaps, default=0.0), 2),
            "cpu_s_by_part": {**cpu_by_part(cpu_start, cpu_last, time.process_time() - own),
                              "worker": round(sum(r[3] for r in runs), 1)},
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "worker_store": store_waits("\n".join(r[2] for r in runs)),
            "niceness_by_part": {part: sorted(seen) for part, seen in sorted(niceness.items())},
            "worker_runs": len(runs), "worker_failed": [(c, rc, out[-300:])
                                                        for c, rc, out, _ in runs if rc != 0]}


async def cost_per_view(url: str, views: int, reload: bool = True) -> dict:
    """One session, no worker: each page opened `views` times after a first opening; the
    browser's and the app server's CPU seconds per opening, and its wall seconds."""
    figures = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport={"width": 1440, "height": 900})
                      ).new_page()
        for path, title, last in PAGES:
            await open_page(page, url, path, title, last)
        for i, (path, title, last) in enumerate(PAGES):
            cpu: dict = {}
            spent = {"browser": 0.0, "app": 0.0}
            wall = 0.0
            for _ in range(views):
                if not reload:      # arrive from the page before, with the sidebar
                    await open_page(page, url, *PAGES[i - 1], by_sidebar=True)
                remember_cpu(cpu)
                before, start = cpu_by_part({}, cpu, 0.0), time.monotonic()
                await open_page(page, url, path, title, last, by_sidebar=not reload)
                wall += time.monotonic() - start
                remember_cpu(cpu)
                after = cpu_by_part({}, cpu, 0.0)
                for part in spent:
                    spent[part] += after.get(part, 0) - before.get(part, 0)
            figures[path] = {"wall_s": round(wall / views, 2),
                             **{f"{part}_cpu_s": round(seconds / views, 2)
                                for part, seconds in spent.items()}}
        await browser.close()
    return figures


def run(sessions: int, seconds: float, scale: int, work: Path, views: int = 0,
        reload: bool = False, pace: Pace = AT_ONCE) -> dict:
    sb = start_sandbox(scale=scale)
    try:
        db = prepare_store(work, sb.url, scale)
        with running_app(db, "app/serve.py", log=work / "app.log", GSTN_API_URL=sb.url,
                         IMS_DB_HOLD_LOG="1") as url:
            if views:
                return {"views": views, "reload": reload,
                        "load_average": [round(x, 1) for x in os.getloadavg()],
                        "per_view": asyncio.run(cost_per_view(url, views, reload))}
            result = measure(url, db, sb.url, sessions, seconds, reload, pace)
        return {**result, "app_store": store_waits((work / "app.log").read_text(errors="replace"))}
    finally:
        stop_sandbox(sb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--scale", type=int, default=3000)
    ap.add_argument("--cost", type=int, default=0, metavar="VIEWS",
                    help="instead: one session, no worker, CPU per page view over VIEWS views")
    ap.add_argument("--think", type=float, default=0.0, metavar="SECONDS",
                    help="a person's reading time after a page is drawn, before the next click "
                         "(default 0: the next click at once)")
    ap.add_argument("--ramp", type=float, default=0.0, metavar="SECONDS",
                    help="spread the sessions' first loads evenly over this many seconds "
                         "(default 0: all at once)")
    ap.add_argument("--reload", action="store_true",
                    help="open every page by its address (a full page load each time) instead "
                         "of with the sidebar")
    args = ap.parse_args()
    work = Path(__file__).resolve().parent / "out" / "sessions"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("ims.duckdb*"):
        old.unlink()
    result = run(args.sessions, args.seconds, args.scale, work, args.cost, args.reload,
                 Pace(args.think, args.ramp))
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
