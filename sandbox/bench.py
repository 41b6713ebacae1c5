"""Timings of the sandbox's data work (not a test):
`python -m sandbox.bench [--records N] [--lines]`.

Reports CPU and wall seconds for building N records of one GSTIN, serialising its sections,
GSTR-2A, and writing the purchase register; `--lines` also writes a ~1,000,000-line register.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sandbox import books, synth
from sandbox.generate import generate_files
from sandbox.state import Portal


def timed(label: str, fn, *args):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(*args)
    print(f"{label:<44} cpu {time.process_time() - cpu:6.2f} s   wall "
          f"{time.perf_counter() - wall:6.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--lines", action="store_true", help="also a ~1M-line purchase register")
    a = ap.parse_args()
    g = synth.DEMO_BUSINESSES[0]["gstin"]
    biz = timed(f"build {a.records} IMS records (one GSTIN)", synth.build_business, 1, g, "27",
                a.records)
    portal = Portal(1, 50, gstins=[g])
    portal.data[g] = biz
    timed("serialise all sections (GETINV bytes)",
          lambda: [portal.section_answer(g, k) for k in synth.SECTIONS])
    timed("GSTR-2A document (all periods)", synth.gstr2a_document, biz)
    with tempfile.TemporaryDirectory() as tmp:
        out = timed("purchase register + ground truth", books.write_books, biz, 1,
                    Path(tmp) / "pr.csv", Path(tmp) / "gt.csv")
        print(f"  {out['pr_lines']} books lines")
        if a.lines:
            out = timed("generate --records 765000 --books-only", generate_files, tmp, 765_000, 1,
                        None, True)
            print(f"  {out['pr_lines']} books lines")


if __name__ == "__main__":
    main()
