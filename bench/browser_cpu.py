"""Where the browser's CPU goes on a page view: IMS Invoices, Reconciliation and the Dashboard
of the app as ./run.sh serves it (the store and sandbox of bench/sessions.py), one chromium
session, no worker.

    .venv/bin/python -m bench.browser_cpu [--views 3] [--scale 3000] [--reload | --sidebar]

Each page is opened VIEWS times (after a first opening that fills the browser's cache) with the
Chrome DevTools Protocol on: `Performance.getMetrics` (the renderer's script, compile, style
and layout time, and the renderer's main thread time) and a sampled JavaScript profile
(`Profiler`), whose self time is split by the script it ran in: plotly.js (Streamlit's
PlotlyChart chunk), the data grid (its DataFrame chunk), message decoding (protobuf and Apache
Arrow), Streamlit's own bundle (React, its elements), other chunks, and V8's own work (the
garbage collector, "(program)": parsing, compiling and everything outside JavaScript). The
whole chromium's CPU (every process: browser, renderer, GPU/raster) per view comes from /proc.

`--reload` (the default) opens every view with a full page load (page.goto), as
`bench/sessions.py --reload` does; `--sidebar` moves between the pages with the sidebar (no
reload, as a person does, and as bench/sessions.py does by default). Prints a RESULT line; docs/reliability.md has the figures.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path

from playwright.async_api import async_playwright

from bench.sessions import PAGES, cpu_by_part, open_page, prepare_store, remember_cpu
from tests.fixtures import CHROMIUM, CHROMIUM_ARGS, running_app, start_sandbox, stop_sandbox

SCRIPT_PARTS = ((re.compile(r"PlotlyChart"), "plotly"),
                (re.compile(r"DataFrame|glide|ArrowTable|dataframe", re.IGNORECASE), "grid"),
                (re.compile(r"protobuf|arrow|apache|Quiver", re.IGNORECASE), "decoding"),
                (re.compile(r"/static/js/index\."), "streamlit"),
                (re.compile(r"/static/js/"), "streamlit chunks"))
METRICS = ("ScriptDuration", "V8CompileDuration", "RecalcStyleDuration", "LayoutDuration",
           "TaskDuration", "ThreadTime", "ProcessTime")


def script_part(url: str, function: str) -> str:
    """The part of the browser's JavaScript time a profile node belongs to."""
    if not url:
        return {"(garbage collector)": "garbage collector", "(program)": "program",
                "(idle)": "idle", "(root)": "idle"}.get(function, "native")
    return next((name for pattern, name in SCRIPT_PARTS if pattern.search(url)), "other")


def self_time_by_part(profile: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds of self time per script part in a CPU profile (samples x their time deltas),
    and per script file."""
    part_of, file_of = {}, {}
    for n in profile["nodes"]:
        url, function = n["callFrame"].get("url", ""), n["callFrame"].get("functionName", "")
        part_of[n["id"]] = script_part(url, function)
        file_of[n["id"]] = url.rsplit("/", 1)[-1] or f"{function} (no script)"
    spent: dict[str, float] = defaultdict(float)
    by_file: dict[str, float] = defaultdict(float)
    for node, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        spent[part_of[node]] += delta / 1e6
        by_file[file_of[node]] += delta / 1e6
    return spent, by_file


async def metrics(cdp) -> dict[str, float]:
    got = await cdp.send("Performance.getMetrics")
    return {m["name"]: m["value"] for m in got["metrics"] if m["name"] in METRICS}


async def profile_pages(url: str, views: int, sidebar: bool) -> dict:
    figures = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context(viewport={"width": 1440, "height": 900})
                      ).new_page()
        for path, title, last in PAGES:       # the browser's cache filled, servers warm
            await open_page(page, url, path, title, last)
        cdp = await page.context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        await cdp.send("Profiler.enable")
        await cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        for i, (path, title, last) in enumerate(PAGES):
            before_path = PAGES[i - 1]   # sidebar: arrive from the page before, as in the bench
            spent: dict[str, float] = defaultdict(float)
            scripts: dict[str, float] = defaultdict(float)
            cpu: dict = {}
            walls = []
            for _ in range(views):
                if sidebar:
                    await open_page(page, url, *before_path, by_sidebar=True)
                m0 = await metrics(cdp)
                remember_cpu(cpu)
                before = cpu_by_part({}, cpu, 0.0)
                await cdp.send("Profiler.start")
                start = time.monotonic()
                if sidebar:
                    await open_page(page, url, path, title, last, by_sidebar=True)
                else:
                    await open_page(page, url, path, title, last)
                walls.append(time.monotonic() - start)
                profile = (await cdp.send("Profiler.stop"))["profile"]
                remember_cpu(cpu)
                after = cpu_by_part({}, cpu, 0.0)
                m1 = await metrics(cdp)
                parts, files = self_time_by_part(profile)
                for part, seconds in parts.items():
                    spent[f"js:{part}"] += seconds
                for name, seconds in files.items():
                    scripts[name] += seconds
                for name in METRICS:    # a full load starts the document's counters again
                    restarts = not sidebar and name not in ("ProcessTime", "ThreadTime")
                    spent[name] += m1.get(name, 0) - (0 if restarts else m0.get(name, 0))
                spent["chromium_cpu"] += after.get("browser", 0) - before.get("browser", 0)
                spent["app_cpu"] += after.get("app", 0) - before.get("app", 0)
            figures[path] = {"wall_s": [round(w, 2) for w in walls],
                             **{k: round(v / views, 3) for k, v in sorted(spent.items())
                                if k != "js:idle"},
                             "top_scripts": {k: round(v / views, 3) for k, v in sorted(
                                 scripts.items(), key=lambda kv: -kv[1])[:16]}}
        await browser.close()
    return figures


def run(views: int, scale: int, sidebar: bool, work: Path) -> dict:
    sb = start_sandbox(scale=scale)
    try:
        db = prepare_store(work, sb.url, scale)
        with running_app(db, "app/serve.py", log=work / "app.log", GSTN_API_URL=sb.url) as url:
            load = [round(x, 1) for x in os.getloadavg()]
            per_view = asyncio.run(profile_pages(url, views, sidebar))
            return {"views": views, "sidebar": sidebar, "load_average_start": load,
                    "load_average_end": [round(x, 1) for x in os.getloadavg()],
                    "per_view": per_view}
    finally:
        stop_sandbox(sb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--views", type=int, default=3)
    ap.add_argument("--scale", type=int, default=3000)
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--reload", action="store_true", help="full page loads (the default)")
    how.add_argument("--sidebar", action="store_true", help="move with the sidebar instead")
    ap.add_argument("--url", help="an app already serving bench/sessions.py's store (for "
                    "trying a change: no sandbox or store is built)")
    args = ap.parse_args()
    if args.url:
        per_view = asyncio.run(profile_pages(args.url, args.views, args.sidebar))
        print("RESULT " + json.dumps({"views": args.views, "sidebar": args.sidebar,
                                      "load_average": os.getloadavg(), "per_view": per_view}))
        return
    work = Path(__file__).resolve().parent / "out" / "browser_cpu"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("ims.duckdb*"):
        old.unlink()
    print("RESULT " + json.dumps(run(args.views, args.scale, args.sidebar, work)))


if __name__ == "__main__":
    main()
