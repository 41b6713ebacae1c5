"""Benchmark: `worker.py fetch` of one business (IMS, then its GSTR-2A) from the sandbox over
HTTP, against its floor, in the same run.

    .venv/bin/python -m bench.fetch_floor [--records 200000] [--file-records 100000]
        [--repeat 3] [--gstin G]

The fetch is fetch_businesses, as `worker.py fetch --gstin G` runs it, into a fresh DuckDB file
each time (every record new). Its HTTP exchanges are recorded on the first run; the floor is a
plain client (a new requests session) sending the same requests and decoding every answer
with the standard `json` (the project decodes with orjson), nothing else. Prints both times
(best of --repeat, taking turns), the ratio (target <= 2.5x, issue 27), the CPU time of this
process during each (the sandbox's own CPU is not counted: the same for both), the peak resident
memory of this process during each, and the load average. The sandbox answers an IMS section, or a
GSTR-2A section of one period, of more than 20,000 records (documents) with a token, and one of
more than --file-records with `urls` of files of that many (as the portal does for large
answers; 0: one answer per section, which above about 250,000 records passes the client's
100 MB answer cap, IMS_GSP_MAX_ANSWER_MB, kept at its default here).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.reco import PeakRss
from core.ims import fetch_businesses
from core.portal import GstnClient
from core.store import connect
from tests.fixtures import start_sandbox, stop_sandbox

GIB = 1024 ** 3


def cpu_seconds() -> float:
    """User + system CPU of this process, all its threads (Polars, DuckDB) included."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def record_exchanges(client: GstnClient) -> list[tuple]:
    """The client's requests, as (method, url, headers, body), appended as they are sent."""
    sent: list[tuple] = []

    def keep(resp, *args, **kwargs):
        req = resp.request
        sent.append((req.method, req.url, dict(req.headers), req.body))
    client.session.hooks["response"].append(keep)
    return sent


def floor(exchanges: list[tuple]) -> int:
    """The same requests by a plain client, every answer decoded -> bytes received."""
    received = 0
    with requests.Session() as plain:
        for method, url, headers, body in exchanges:
            resp = plain.request(method, url, headers=headers, data=body, timeout=600)
            json.loads(resp.content)
            received += len(resp.content)
    return received


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", "--scale", dest="scale", type=int, default=200_000,
                    help="IMS records of the business")
    ap.add_argument("--file-records", type=int, default=100_000,
                    help="records per file of a file-based answer (0: none)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gstin", default="27AAACW1234K1ZD")
    args = ap.parse_args()
    print(f"starting the sandbox with --scale {args.scale:,} (not timed) ...", flush=True)
    sandbox = start_sandbox(seed=7, scale=args.scale, extra=["--gstin", args.gstin,
                                                             "--file-records",
                                                             str(args.file_records)],
                            wait_s=600 + args.scale / 500)   # a busy machine builds slowly
    os.environ["GSTN_API_URL"] = sandbox.url
    fetches, floors, peaks = [], [], {"fetch": 0, "floor": 0}
    cpu: dict[str, list[float]] = {"fetch": [], "floor": []}
    exchanges: list[tuple] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.repeat):
                started, used = time.perf_counter(), cpu_seconds()
                with PeakRss() as rss:
                    os.environ["IMS_DB_PATH"] = str(Path(tmp) / f"fetch{n}.duckdb")
                    with connect() as con:
                        con.execute("INSERT INTO businesses (gstin, name, state_code) "
                                    "VALUES (?, 'Bench', ?)", [args.gstin, args.gstin[:2]])
                    client = GstnClient(timeout=600)   # the default answer cap (100 MB)
                    sent = record_exchanges(client)
                    result = fetch_businesses([args.gstin], client,
                                              triggered_by="bench")[args.gstin]
                fetches.append(time.perf_counter() - started)
                cpu["fetch"].append(cpu_seconds() - used)
                if not result.get("ok"):
                    raise SystemExit(f"the fetch failed: {result.get('error')}")
                peaks["fetch"] = max(peaks["fetch"], rss.peak)
                exchanges = exchanges or sent
                Path(tmp, f"fetch{n}.duckdb").unlink(missing_ok=True)
                started, used = time.perf_counter(), cpu_seconds()
                with PeakRss() as rss:
                    received = floor(exchanges)
                floors.append(time.perf_counter() - started)
                cpu["floor"].append(cpu_seconds() - used)
                peaks["floor"] = max(peaks["floor"], rss.peak)
                print(f"  run {n + 1}: fetch {fetches[-1]:.2f} s (CPU {cpu['fetch'][-1]:.2f} s), "
                      f"floor {floors[-1]:.2f} s (CPU {cpu['floor'][-1]:.2f} s) "
                      f"(load average {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        stop_sandbox(sandbox)
    ims = result.get("ims") or {}
    fetch, base = min(fetches), min(floors)
    print(f"fetched: {ims.get('total', ims)} IMS records; {len(exchanges)} HTTP requests, "
          f"{received / 1e6:.0f} MB of answers")
    print(f"fetch {fetch:.2f} s, floor {base:.2f} s, ratio {fetch / base:.2f}x; CPU fetch "
          f"{min(cpu['fetch']):.2f} s, floor {min(cpu['floor']):.2f} s, ratio "
          f"{min(cpu['fetch']) / min(cpu['floor']):.2f}x; peak memory "
          f"fetch {peaks['fetch'] / GIB:.2f} GiB, floor {peaks['floor'] / GIB:.2f} GiB "
          f"(load average {os.getloadavg()[0]:.1f}; the floor decodes with the standard json, "
          "the fetch with orjson)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
