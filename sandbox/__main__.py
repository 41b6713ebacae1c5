"""`python -m sandbox [--port 8765] [--seed N] [--scale N] ...` serves the GSTN-shaped API;
`python -m sandbox generate --out DIR ...` writes the same data as files."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sys

from sandbox import synth
from sandbox.demo import DEMO_GSTINS
from sandbox.faults import Faults
from sandbox.generate import generate_files
from sandbox.server import Sandbox, serve
from sandbox.state import Config, Portal


def serve_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox", description="GSTN-shaped sandbox server "
                                 "(see sandbox/README.md); `python -m sandbox generate -h` for "
                                 "files")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=int, default=3000, help="IMS records per business")
    ap.add_argument("--queue-threshold", type=int, default=20000,
                    help="a GETINV section or a GSTR-2A section of more records (documents) "
                         "than this answers a token (FILEDET then serves it)")
    ap.add_argument("--queue-delay", type=float, default=0.5)
    ap.add_argument("--file-records", type=int, default=0,
                    help="FILEDET answers urls of files of at most this many records, or "
                         "GSTR-2A documents (0: the records themselves)")
    ap.add_argument("--save-seconds", type=float, default=5.0)
    ap.add_argument("--token-ttl", type=float, default=6 * 3600, help="token lifetime, seconds")
    ap.add_argument("--token-minutes", type=float, help="token lifetime, minutes (instead of "
                    "--token-ttl; fractions allowed, e.g. 0.1 for tests)")
    ap.add_argument("--start-date", type=dt.date.fromisoformat, default=synth.START_DATE)
    ap.add_argument("--fault", action="append", default=[], help="KIND[:TIMES], repeatable")
    ap.add_argument("--gstin", action="append", choices=DEMO_GSTINS, dest="gstins",
                    help="serve only this demo GSTIN (repeatable; default all three)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    ap.add_argument("--clock-file", default=os.environ.get("IMS_CLOCK_FILE") or None,
                    help="write the sandbox's day here (default IMS_CLOCK_FILE), the app's "
                         "business day (core/clock.py)")
    a = ap.parse_args(argv)
    faults = Faults()
    for spec in a.fault:
        faults.arm_spec(spec)
    ttl = a.token_minutes * 60 if a.token_minutes else a.token_ttl
    config = Config(a.queue_threshold, a.queue_delay, a.save_seconds, ttl, a.file_records)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    portal = Portal(a.seed, a.scale, a.start_date, config, a.gstins, a.clock_file)
    serve(Sandbox(portal, faults), a.host, a.port, a.verbose)
    return 0


def generate_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m sandbox generate",
                                 description="Write IMS JSON, GSTR-2A JSON, a noisy purchase "
                                             "register and its ground truth for one demo GSTIN")
    ap.add_argument("--out", required=True)
    ap.add_argument("--records", type=int, default=3000, help="IMS records (books lines ~1.1x)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gstin", default=DEMO_GSTINS[0], choices=DEMO_GSTINS)
    ap.add_argument("--books-only", action="store_true",
                    help="write only purchase_register.csv and ground_truth.csv (faster)")
    a = ap.parse_args(argv)
    info = generate_files(a.out, a.records, a.seed, a.gstin, a.books_only)
    for k, v in info.items():
        print(f"{k}: {v}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "generate":
        return generate_main(argv[1:])
    return serve_main(argv)


if __name__ == "__main__":
    sys.exit(main())
