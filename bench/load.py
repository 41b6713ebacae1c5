"""Load: the real worker fetching and syncing while a team saves actions.

    .venv/bin/python -m bench.load [--scale 1000000] [--threads 12] [--sessions 1] [--think 0.1]
                                   [--engine duckdb|postgres|both] [--cache DIR] [--fresh]

`--engine postgres` runs it on a PostgreSQL server the bench starts itself (Debian's package,
tests/pg.py, in a temporary folder, with the server's default durability: fsync on); `both`
runs the DuckDB file first, then PostgreSQL, in one run, each with its RESULT line.

1. Start the sandbox (`--scale` records per business) and a fresh store; first fetch (alone).
   The store after that first fetch is kept in `--cache` (default bench/out/, git-ignored),
   one per (scale, engine, schema): the DuckDB file, or the PostgreSQL cluster's data folder.
   Later runs start from a copy of it (the sandbox, started with the same seed and scale,
   serves the same records), so only the preparation is cached; `--fresh` rebuilds it.
2. Advance the sandbox a day (new records, no supplier edits, so every saved action must stay).
3. Start `python worker.py fetch --gstin G` then `python worker.py sync --gstin G`; at the same
   time `--threads` sessions as threads of this process (as Streamlit runs its sessions) and
   `--sessions` more processes (a second app server, a script) save user actions in a loop
   through `core.ims.actions.save_user_actions` (what the IMS Invoices page calls), each on its own
   slice of records, until the worker is done (+2 s).
4. Verify: every save a session was told succeeded is in the store (its last action per
   record is the record's user_action, and each save has its action_log row); no session
   errored; the fetch succeeded. Report save latencies and, on the DuckDB file, its lock
   waits (`core.store.lock_wait_stats()` per session; PostgreSQL has no file lock: its RESULT
   line leaves them out).

Prints a RESULT line; docs/reliability.md quotes it.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from core.ims import fetch_ims, save_user_actions
from core.portal import GstnClient
from core.store import connect, let_go_of_idle_files, lock_wait_stats, migration_files
from tests.fixtures import start_sandbox, stop_sandbox
from tests.pg import create_database, keep_cluster, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]

RTIN = "27AAACW1234K1ZD"


def session_main(number: int, ids: list[int], stop_file: str, out: str, think: float) -> None:
    """A session in a process of its own: its results go to the file `out`."""
    result = session_loop(number, ids, stop_file, think)
    Path(out).write_text(json.dumps(result))


def session_loop(number: int, ids: list[int], stop_file: str, think: float) -> dict:
    """One user session: save an action on a random record of its slice, again and again."""
    rng, saves, errors, latencies, starts, last = random.Random(number), 0, [], [], [], {}
    while not os.path.exists(stop_file):
        rid, action = rng.choice(ids), rng.choice("AR")
        remark = f"s{number}-{saves}"
        started = time.perf_counter()
        try:
            result = save_user_actions([RTIN], {rid: {"action": action,
                                                      "supplier_remark": remark}},
                                       f"session{number}@bench")
        except Exception as exc:  # noqa: BLE001 - counted and reported, that is the point
            ours = [f"{Path(f.filename).name}:{f.lineno} {f.name}"
                    for f in traceback.extract_tb(exc.__traceback__) if "/core/" in f.filename]
            errors.append(f"{type(exc).__name__}: {exc}"[:300] + f" (at {' < '.join(ours[::-1][:4])})")
        else:
            latencies.append(time.perf_counter() - started)
            starts.append(time.time())
            if result.saved == 1:
                saves += 1
                last[rid] = (action, remark)
            elif result.skipped:
                errors.append(f"skipped {result.skipped}")
        time.sleep(think * rng.random() * 2)
    return {"session": number, "saves": saves, "errors": errors, "latencies": latencies,
            "ends": starts,
            "last": {str(k): v for k, v in last.items()}, "lock_waits": lock_wait_stats()}


def prepare(scale: int, cached: bool) -> tuple:
    """The sandbox, and the store after its first fetch: fetched now, or (`cached`) the store
    is already a copy of one that fetched from a sandbox of the same seed and scale."""
    started = time.perf_counter()
    # only the bench's business (the sandbox builds each business apart, the same with or
    # without the others: a third of the start-up); sections of more than 100,000 records
    # answered as files of that many, as the portal does (one answer of a million records is
    # past the client's IMS_GSP_MAX_ANSWER_MB; GSTR-2A's too); a loaded machine is slow
    sandbox = start_sandbox(seed=7, scale=scale, wait_s=1800,
                            extra=["--gstin", RTIN, "--file-records", "100000"])
    print(f"sandbox --scale {scale} up in {time.perf_counter() - started:.1f} s", flush=True)
    os.environ["GSTN_API_URL"] = sandbox.url
    try:
        with connect() as con:
            if cached:
                total = con.execute("SELECT count(*) FROM ims_records WHERE removed_at IS NULL"
                                    ).fetchone()[0]
                print(f"first fetch: from the kept store, {total} records", flush=True)
                return sandbox, total
            con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Load', "
                        "'27')", [RTIN])
        started = time.perf_counter()
        first = fetch_ims(RTIN, GstnClient(timeout=300))
        print(f"first fetch alone: {first['total']} records in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        return sandbox, first["total"]
    except BaseException:
        stop_sandbox(sandbox)
        raise


def session_slices(sessions: int, per_session: int = 400) -> list[list[int]]:
    with connect() as con:
        ids = [r[0] for r in con.execute(
            "SELECT record_id FROM ims_records WHERE section = 'b2b' AND ispendactblocked = 'N' "
            "AND coalesce(is_remarks_blocked, 'N') = 'N' "   # the sessions save remarks
            "AND removed_at IS NULL ORDER BY record_id LIMIT ?",
                                         [sessions * per_session]).fetchall()]
    return [ids[i::sessions] for i in range(sessions)]




def run_worker(step: str) -> tuple[subprocess.CompletedProcess, float]:
    started, wall = time.perf_counter(), time.time()
    done = subprocess.run([sys.executable, "worker.py", step, "--gstin", RTIN], cwd=ROOT,
                          check=False, capture_output=True, text=True,
                          env={**os.environ, "IMS_DB_HOLD_LOG": "1"},
                          timeout=3600)
    done.phase = (wall, time.time())
    return done, time.perf_counter() - started


def run_load(args, tmp: Path, cache: StoreCache) -> dict:
    sandbox, first_total = prepare(args.scale, cache.used)
    if not cache.used:
        cache.keep()
    try:
        started = time.perf_counter()
        requests.post(f"{sandbox.url}/_control/advance_day", timeout=600,
                      json={"days": 1, "new_per_day": 1000, "edits_per_day": 0}).raise_for_status()
        print(f"sandbox advanced a day (1000 new records) in {time.perf_counter() - started:.1f} s",
              flush=True)
        started = time.perf_counter()   # the sandbox's own work, not the worker's: done first
        requests.post(f"{sandbox.url}/_control/warm_gstr2a", timeout=3600,
                      json={"gstin": RTIN}).raise_for_status()
        print(f"sandbox's GSTR-2A answers built in {time.perf_counter() - started:.1f} s",
              flush=True)
        count = args.threads + args.sessions
        slices = session_slices(count)
        load_before, run_started = os.getloadavg(), time.perf_counter()
        stop_file = tmp / "stop"
        procs = [subprocess.Popen([sys.executable, "-m", "bench.load", "--session", str(n), "--ids",
                                   json.dumps(slices[n]), "--stop", str(stop_file), "--out",
                                   str(tmp / f"s{n}.json"), "--think", str(args.think)], cwd=ROOT)
                 for n in range(args.threads, count)]
        with ThreadPoolExecutor(args.threads) as pool:
            threads = [pool.submit(session_loop, n, slices[n], str(stop_file), args.think)
                       for n in range(args.threads)]
            time.sleep(1.0)  # sessions are saving before the worker starts
            fetch, fetch_s = run_worker("fetch")
            print(f"worker fetch done in {fetch_s:.1f} s (exit {fetch.returncode})", flush=True)
            sync, sync_s = run_worker("sync")
            print(f"worker sync done in {sync_s:.1f} s (exit {sync.returncode})", flush=True)
            time.sleep(2.0)
            stop_file.write_text("stop")
            results = [t.result() for t in threads]
        for p in procs:
            p.wait(120)
        run_s, load_after = time.perf_counter() - run_started, os.getloadavg()
        results += [json.loads((tmp / f"s{n}.json").read_text())
                    for n in range(args.threads, count)]
        # the waited-for children so far: the worker's fetch and sync (the sandbox still runs)
        worker_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {"fetch": fetch, "fetch_s": fetch_s, "sync": sync, "sync_s": sync_s,
                "sessions": results, "first_total": first_total, "threads": args.threads,
                "run_s": run_s, "load": (load_before, load_after), "worker_kib": worker_kib}
    finally:
        stop_sandbox(sandbox)


def verify(run: dict) -> dict:
    lost, unlogged = [], 0
    with connect() as con:
        for s in run["sessions"]:
            for rid, (action, remark) in s["last"].items():
                row = con.execute("SELECT user_action, user_supplier_remark FROM ims_records WHERE "
                                  "record_id = ?",
                                  [int(rid)]).fetchone()
                if tuple(row) != (action, remark):
                    lost.append((rid, row, (action, remark)))
            logged = con.execute("SELECT count(*) FROM action_log WHERE actor = ? AND kind = "
                                 "'user_action'", [f"session{s['session']}@bench"]).fetchone()[0]
            unlogged += s["saves"] - logged
        total = con.execute("SELECT count(*) FROM ims_records WHERE removed_at IS NULL"
                            ).fetchone()[0]
        job = con.execute("SELECT ok, error, extract(epoch FROM finished_at - started_at) "
                          "FROM job_runs "
                          "WHERE job = 'fetch' ORDER BY run_id DESC LIMIT 1").fetchone()
    return {"lost": lost, "unlogged": unlogged, "records": total, "fetch_job": job}


def worker_log(stderr: str) -> str:
    """The worker's last words and every HOLD and WAITED line (its longest holds of the store,
    its waits for it)."""
    holds = [line for line in stderr.splitlines() if line.startswith(("HOLD ", "WAITED "))]
    rest = "\n".join(line for line in stderr.splitlines()
                     if not line.startswith(("HOLD ", "WAITED ")))
    return rest.strip()[-1500:] + "\n" + "\n".join(holds)


def file_lock_waits(waits: list[dict]) -> str:
    """The RESULT fields of the DuckDB file's lock waits (`core.store.lock_wait_stats`). Left
    out on PostgreSQL: there is no file lock to wait for (the counter stays at what the DuckDB
    run of `--engine both` left in this process), and a save's waits on the server's row locks
    are in its latency."""
    return (f"lock_waits={sum(w['count'] for w in waits)} "
            f"lock_wait_s={sum(w['seconds'] for w in waits):.2f} "
            f"max_session_lock_wait_s={max(w['seconds'] for w in waits):.2f} ")


def report(run: dict, check: dict, engine: str) -> int:
    sessions = run["sessions"]
    lat = sorted(x for s in sessions for x in s["latencies"])
    # the thread sessions share their process's counters (lock_wait_stats): counted once,
    # from the latest of their snapshots; each process session has its own
    threads = sessions[:run["threads"]]
    waits = ([max((s["lock_waits"] for s in threads), key=lambda w: w["seconds"])]
             if threads else []) + [s["lock_waits"] for s in sessions[run["threads"]:]]
    errors = [e for s in sessions for e in s["errors"]]
    kinds = collections.Counter(e.split(":")[0] for e in errors)

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    print(f"worker fetch: exit {run['fetch'].returncode}, {run['fetch_s']:.1f} s wall; job "
          f"{check['fetch_job']}")
    print(run["fetch"].stdout.strip()[-2000:], worker_log(run["fetch"].stderr))
    print(f"worker sync: exit {run['sync'].returncode}, {run['sync_s']:.1f} s wall")
    print(run["sync"].stdout.strip()[-2000:], worker_log(run["sync"].stderr))
    for s in sessions:
        print(f"session {s['session']}: {s['saves']} saves, {len(s['errors'])} errors")
    print(f"save latency ms: median {statistics.median(lat) * 1000:.0f}, p95 {pct(0.95):.0f}, "
          f"p99 {pct(0.99):.0f}, max {lat[-1] * 1000:.0f}" if lat else "no saves")
    ok = (run["fetch"].returncode == 0 and run["sync"].returncode == 0 and not errors
          and not check["lost"] and check["unlogged"] == 0)
    print(f"RESULT engine={engine} ok={ok} records={check['records']} "
          f"fetch_s={run['fetch_s']:.1f} "
          f"sync_s={run['sync_s']:.1f} threads={run['threads']} "
          f"sessions={len(sessions)} saves={sum(s['saves'] for s in sessions)} "
          f"errors={len(errors)} "
          f"error_kinds={','.join(f'{k}:{n}' for k, n in kinds.items()) or '-'} "
          f"lost={len(check['lost'])} unlogged={check['unlogged']} "
          f"{file_lock_waits(waits) if engine == 'duckdb' else ''}"
          f"save_ms_median={statistics.median(lat) * 1000 if lat else 0:.0f} "
          f"save_ms_p95={pct(0.95):.0f} save_ms_p99={pct(0.99):.0f} "
          f"save_ms_max={(lat[-1] if lat else 0) * 1000:.0f} "
          f"run_s={run['run_s']:.0f} "
          f"load={run['load'][0][0]:.1f}-{run['load'][1][0]:.1f} "
          f"worker_peak_gib={run['worker_kib'] / 2**20:.2f} "
          f"bench_peak_gib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f}")
    for e in errors[:5]:
        print("  error:", e)
    for step in ("fetch", "sync"):
        start, end = run[step].phase
        during = sorted(x for s in sessions for x, t in zip(s["latencies"], s["ends"])
                        if start <= t <= end)
        if during:
            print(f"saves ending during the worker's {step}: {len(during)}, median "
                  f"{statistics.median(during) * 1000:.0f} ms, max {during[-1] * 1000:.0f} ms")
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=12, help="sessions as threads of this process")
    ap.add_argument("--sessions", type=int, default=1, help="sessions as processes of their own")
    ap.add_argument("--think", type=float, default=0.1, help="mean pause between saves (s)")
    ap.add_argument("--engine", choices=("duckdb", "postgres", "both"), default="duckdb",
                    help="the store: the DuckDB file, a PostgreSQL server, or one after the other")
    ap.add_argument("--cache", type=Path, default=ROOT / "bench" / "out",
                    help="folder of the starting stores kept between runs (default bench/out)")
    ap.add_argument("--fresh", action="store_true",
                    help="fetch the starting store again and replace the kept one")
    ap.add_argument("--session", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    ap.add_argument("--stop", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.session is not None:
        session_main(args.session, json.loads(args.ids), args.stop, args.out, args.think)
        return 0
    engines = ("duckdb", "postgres") if args.engine == "both" else (args.engine,)
    return max(run_on(engine, args) for engine in engines)


def run_on(engine: str, args) -> int:
    """The load on one engine: a DuckDB file, or a PostgreSQL server, each starting from the
    kept store of this scale (or fetching it first)."""
    print(f"== {engine}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        cache = StoreCache(engine, args.scale, args.cache, Path(tmp), args.fresh)
        try:
            cache.open()
            run = run_load(args, Path(tmp), cache)
            return report(run, verify(run), engine)
        finally:
            let_go_of_idle_files()
            os.environ.pop("IMS_DB_URL", None)
            cache.close()


class StoreCache:
    """The store after the first fetch, kept under `folder` per (engine, scale, schema):
    `load-duckdb-<scale>-m<last migration>.duckdb` (the file, copied while no one holds it) or
    `load-postgres-<scale>-m<...>/` (the cluster's data folder, copied while its server is
    stopped: a start on a copy takes seconds, a restore of a million rows minutes)."""

    def __init__(self, engine: str, scale: int, folder: Path, tmp: Path, fresh: bool):
        self.engine, self.tmp, self.server = engine, tmp, None
        schema = migration_files()[-1][0]
        suffix = ".duckdb" if engine == "duckdb" else ""
        self.kept = folder / f"load-{engine}-{scale}-seed7-m{schema}{suffix}"
        self.used = self.kept.exists() and not fresh

    def open(self) -> None:
        """Point the store's variables at this run's store: a copy of the kept one, if used."""
        started = time.perf_counter()
        os.environ["IMS_DB_PATH"] = str(self.tmp / "load.duckdb")
        os.environ.pop("IMS_DB_URL", None)
        if self.engine == "duckdb":
            if self.used:
                shutil.copyfile(self.kept, os.environ["IMS_DB_PATH"])
        else:
            self.server = start_server(durable=True, copy_of=self.kept if self.used else None)
            os.environ["IMS_DB_URL"] = (self.server.url("load") if self.used
                                        else create_database(self.server, "load"))
        if self.used:
            print(f"store copied from {self.kept} in {time.perf_counter() - started:.1f} s",
                  flush=True)

    def keep(self) -> None:
        """Keep the store as it is now (after the first fetch) for the next runs."""
        started = time.perf_counter()
        self.kept.parent.mkdir(parents=True, exist_ok=True)
        part = self.kept.with_name(self.kept.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        let_go_of_idle_files()      # the DuckDB file whole on disk; no idle server connections
        if self.engine == "duckdb":
            store = Path(os.environ["IMS_DB_PATH"])
            assert not Path(f"{store}.wal").exists(), "the store's WAL was not checkpointed"
            shutil.copyfile(store, part)
        else:
            keep_cluster(self.server, part)
        if self.kept.is_dir():
            shutil.rmtree(self.kept)
        os.replace(part, self.kept)
        print(f"store kept as {self.kept} in {time.perf_counter() - started:.1f} s", flush=True)

    def close(self) -> None:
        if self.server is not None:
            stop_server(self.server)


if __name__ == "__main__":
    sys.exit(main())
