"""The 2B reconciliation of bench/gstr2b.py alone, on frames saved once (no HTTP, no store).

    .venv/bin/python -m bench.gstr2b_frames --save DIR [--documents 1000000] [--seed 7]
    .venv/bin/python -m bench.gstr2b_frames --load DIR [--repeat 3] [--profile]

--save builds the sandbox's data in this process (the same seed and scale as bench/gstr2b.py),
takes the 2B the sandbox would serve, stores it with the purchase register and IMS records of
bench/gstr2b.py in a temporary store, reads both back as bench/gstr2b.py's reconcile phase
does and writes them to DIR as portal.parquet (portal_frame_2b's frame) and books.parquet.
--load times reconcile_2b on them (wall and CPU, best of --repeat, peak RSS), prints the
statuses, and with --profile the functions that took the most time (cProfile).
"""
from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.gstr2b import GSTIN, PERIOD, SHARE_IN_2B, fill_store, read_back
from bench.reco import PeakRss
from core.gstr2b import store_2b
from core.portal import read_2b_frame
from core.reco import reconcile_2b
from sandbox.gstr2b import Gstr2bBook, grouped
from sandbox.state import Portal

SETTINGS = {"tolerance_paise": 100, "date_window": 10, "policy": "balanced"}


def save_frames(out: Path, documents: int, seed: int) -> None:
    scale = math.ceil(documents / SHARE_IN_2B)
    t0 = time.perf_counter()
    portal = Portal(seed, scale, gstins=[GSTIN])
    made = Gstr2bBook(portal).build(GSTIN, PERIOD)
    data = {k: made[k] for k in ("gstin", "rtnprd", "version", "gendt")} | grouped(made["entries"])
    del portal, made
    head, frame = read_2b_frame({"data": data})
    del data
    print(f"2B of {frame.height:,} documents built in {time.perf_counter() - t0:.0f} s",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMS_DB_PATH"] = str(Path(tmp) / "frames.duckdb")
        fill_store(frame, seed)
        store_2b(GSTIN, PERIOD, head, frame)
        portal_2b, books, settings = read_back()
    print(f"settings of the store: {settings}")
    out.mkdir(parents=True, exist_ok=True)
    portal_2b.write_parquet(out / "portal.parquet")
    books.write_parquet(out / "books.parquet")
    print(f"written to {out}: {portal_2b.height:,} 2B documents, {books.height:,} books documents")


def time_reconcile(src: Path, repeat: int, profile: bool) -> pl.DataFrame:
    portal = pl.read_parquet(src / "portal.parquet")
    books = pl.read_parquet(src / "books.parquet")
    best = None
    for n in range(1, repeat + 1):
        load = os.getloadavg()[0]
        with PeakRss() as rss:
            wall, cpu = time.perf_counter(), time.process_time()
            results = reconcile_2b(portal, books, **SETTINGS)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"run {n}: {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss.peak / 2**30:.2f} GiB, "
              f"load {load:.1f}", flush=True)
        best = min(best or wall, wall)
    print(f"statuses: {dict(sorted(results['match_status'].value_counts().iter_rows()))}")
    if profile:
        prof = cProfile.Profile()
        prof.runcall(reconcile_2b, portal, books, **SETTINGS)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    print(f"RESULT rows={results.height} best_s={best:.2f}")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--save", type=Path, help="build the frames and write them here")
    ap.add_argument("--load", type=Path, help="time reconcile_2b on the frames saved here")
    ap.add_argument("--documents", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--write", type=Path, help="with --load: write the results here (parquet)")
    args = ap.parse_args()
    if args.save:
        save_frames(args.save, args.documents, args.seed)
    if args.load:
        results = time_reconcile(args.load, args.repeat, args.profile)
        if args.write:
            results.write_parquet(args.write)


if __name__ == "__main__":
    main()
