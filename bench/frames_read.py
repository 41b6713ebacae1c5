"""Benchmark: reading a query's rows as a Polars frame on PostgreSQL, by COPY (what
`query_frame` does) against rows fetched by the driver and made into a frame (the path before).

    .venv/bin/python -m bench.frames_read [--records 1000000] [--repeat 3]

Starts a PostgreSQL server (bench/engines.py), generates N IMS records over five businesses in
it (bench/pages.py's records), then reads the sync's portal frame of one business, N / 5
records (`core.ims.sync.ims_frame`, the real query), both ways, taking turns; prints wall and CPU time of this process (best of
--repeat) and the load average, and checks both frames are equal.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import polars as pl

from bench.engines import store_on
from bench.pages import GSTINS, build_store_postgres
from core.ims.sync import ims_frame
from core.store import connect
from core.store.postgres import PgConnection, _frame_type, _named


class RowByRow(PgConnection):
    """The connection as it read frames before COPY: the driver's rows, then a frame."""

    def frame(self, sql: str, params=None) -> pl.DataFrame:
        self.execute(sql, params)
        rows = self._cursor.fetchall()
        schema = {name: _frame_type(c) for name, c in _named(self._cursor.description)}
        return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def timed(con) -> tuple[float, float, pl.DataFrame]:
    wall, cpu = time.perf_counter(), time.process_time()
    frame = ims_frame(con, GSTINS[0])
    return time.perf_counter() - wall, time.process_time() - cpu, frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, store_on("postgres", Path(tmp)) as url:
        build_store_postgres(url, args.records)
        best = {"copy": (1e9, 1e9), "rows": (1e9, 1e9)}
        frames = {}
        for _ in range(args.repeat):
            for way in ("copy", "rows"):
                with connect() as con:
                    reader = con if way == "copy" else RowByRow(con.raw)
                    wall, cpu, frame = timed(reader)
                best[way] = min(best[way], (wall, cpu))
                frames[way] = frame
        assert frames["copy"].equals(frames["rows"], null_equal=True)
        print(f"{frames['copy'].height:,} records x {frames['copy'].width} columns "
              f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores)")
        for way, (wall, cpu) in best.items():
            print(f"  {way:5s} {wall:6.2f} s wall, {cpu:6.2f} s CPU")
        print(f"RESULT copy_s={best['copy'][0]:.2f} rows_s={best['rows'][0]:.2f} "
              f"copy_cpu_s={best['copy'][1]:.2f} rows_cpu_s={best['rows'][1]:.2f} "
              f"speedup={best['rows'][0] / best['copy'][0]:.1f}x")


if __name__ == "__main__":
    main()
