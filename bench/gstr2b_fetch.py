"""Benchmark: the fetch + read stage of bench/gstr2b.py alone: fetch_2b_frame of a GSTR-2B of
1,000,000 documents from the sandbox over HTTP (GET2B, then files 1..fc, three at a time), each
run in a fresh process so that its peak memory is its own, taking turns between checkouts on
one sandbox (e.g. this one and a worktree of an earlier commit), next to its floor: the same
files downloaded, three at a time, and not read.

    .venv/bin/python -m bench.gstr2b_fetch [--documents 1000000] [--repeat 3]
        [--per-file 50000] [--checkout DIR ...]

Before any timing the sandbox builds the 2B (as bench/gstr2b.py does) and one download warms
its answers (each file is encoded once). Prints per run: the checkout, wall and CPU seconds of
the child process over the fetch (user + system, all its threads), its peak resident memory
(the whole process, imports included), the documents read, the load average before.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.gstr2b import GSTIN, PERIOD, SHARE_IN_2B, control, wait_until_idle
from tests.fixtures import start_sandbox, stop_sandbox

HERE = Path(__file__).resolve().parents[1]
FETCH = """
import json, resource, time
from core.portal import GstnClient, fetch_2b_frame
client = GstnClient(timeout=300)
client.login()
wall, cpu = time.perf_counter(), time.process_time()
head, frame = fetch_2b_frame(client, {gstin!r}, {period!r})
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{"wall": wall, "cpu": cpu, "documents": frame.height,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
"""
DOWNLOAD = """
import json, resource, time
from concurrent.futures import ThreadPoolExecutor
import requests
from core.portal import GstnClient
client = GstnClient(timeout=300)
client.login()
path = "/taxpayerapi/v4.0/returns/gstr2b"
params = {{"action": "GET2B", "gstin": {gstin!r}, "rtnprd": {period!r}}}
headers = client.adapter.headers(client.token, {gstin!r})
session = requests.Session()
wall, cpu = time.perf_counter(), time.process_time()
first = session.get(client.config.url + path, params=params, headers=headers, timeout=300).json()
files = first["data"]["fc"]
def get(n):
    return len(session.get(client.config.url + path, params={{**params, "file_num": n}},
                           headers=headers, timeout=300).content)
with ThreadPoolExecutor(3) as pool:
    size = sum(pool.map(get, range(1, files + 1)))
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({{"wall": wall, "cpu": cpu, "documents": None, "bytes": size,
                  "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
"""


def run(checkout: Path, code: str, url: str) -> dict:
    """`code` in a fresh Python process with `checkout` first on its path -> its JSON line."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "GSTN_API_URL": url}
    out = subprocess.run([sys.executable, "-c", code], cwd=checkout, env=env, check=True,
                         capture_output=True, text=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--per-file", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--checkout", action="append", type=Path,
                    help="a checkout whose core/ fetches (repeatable; default: this one)")
    args = ap.parse_args()
    checkouts = [c.resolve() for c in args.checkout or [HERE]]
    t0 = time.perf_counter()
    sandbox = start_sandbox(seed=args.seed, scale=math.ceil(args.documents / SHARE_IN_2B),
                            extra=["--gstin", GSTIN, "--queue-threshold", str(10 ** 9)],
                            wait_s=1800)
    try:
        wait_until_idle(sandbox.proc.pid)
        made = control(sandbox.url, "gstr2b", {"per_file": args.per_file,
                                               "generate": {"gstin": GSTIN, "period": PERIOD}})
        fetch = FETCH.format(gstin=GSTIN, period=PERIOD)
        download = DOWNLOAD.format(gstin=GSTIN, period=PERIOD)
        run(HERE, download, sandbox.url)   # the sandbox encodes each file once
        print(f"sandbox ready in {time.perf_counter() - t0:.0f} s: 2B of "
              f"{made['generated']['documents']:,} documents, {made['per_file']:,} per file",
              flush=True)
        for n in range(1, args.repeat + 1):
            for name, checkout, code in [*(("fetch_2b_frame", c, fetch) for c in checkouts),
                                         ("download only (floor)", HERE, download)]:
                load = os.getloadavg()[0]
                got = run(checkout, code, sandbox.url)
                print(f"run {n} {name} {checkout.name}: {got['wall']:.2f} s wall, "
                      f"{got['cpu']:.2f} s CPU, peak RSS {got['peak'] / 2 ** 30:.2f} GiB, "
                      f"{got['documents'] or 0:,} documents; load average {load:.1f} before",
                      flush=True)
    finally:
        stop_sandbox(sandbox)


if __name__ == "__main__":
    main()
