"""Approval before upload at scale: one bulk approval of N proposals (one transaction of
set-based statements), and a sheet of N lines previewed and saved.

    .venv/bin/python -m bench.approval [--proposals 10000] [--sheet-lines 2000]

Builds a throwaway store with one business asking for approval and N proposals (plus the
records the sheet names), then times `approve_actions` on all of them, and `preview_sheet` +
`save_sheet` of a CSV naming the others (docs/approval.md).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

from core.ims.approval import approve_actions, queue_ids, set_approval
from core.ims.sheet_actions import preview_sheet, save_sheet
from core.store import connect, transaction

GSTIN = "27AAPFU0939F1ZV"
SUPPLIER = "27AABCS5678L1ZQ"


def build_store(proposals: int, sheet_lines: int) -> None:
    with connect() as con, transaction(con):
        con.execute("INSERT INTO businesses (gstin, name, state_code) VALUES (?, 'Bench', '27')",
                    [GSTIN])
        con.execute("""INSERT INTO ims_records (rtin, section, stin, doc_type, doc_no, doc_no_key,
                           doc_date, fy, rtnprd, val, txval, igst, cgst, sgst, cess, portal_action,
                           ispendactblocked, user_action, user_action_by, user_action_at,
                           first_seen, last_seen)
                       SELECT ?, 'b2b', ?, 'INV', 'B-' || i, 'B-' || i, DATE '2025-10-01',
                              '2025-26', '102025', 118, 100, 18, 0, 0, 0, 'N', 'N',
                              CASE WHEN i < ? THEN 'A' END, CASE WHEN i < ? THEN 'ana@x.in' END,
                              current_timestamp, current_timestamp, current_timestamp
                       FROM range(?) t(i)""",
                    [GSTIN, SUPPLIER, proposals, proposals, proposals + sheet_lines])
    set_approval(GSTIN, True, "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--sheet-lines", type=int, default=2_000)
    args = parser.parse_args()
    os.environ["IMS_DB_PATH"] = os.path.join(tempfile.mkdtemp(prefix="bench_approval_"),
                                             "ims.duckdb")
    build_store(args.proposals, args.sheet_lines)
    ids = queue_ids([GSTIN])
    started = time.perf_counter()
    done = approve_actions([GSTIN], ids, "boss@x.in", "bench")
    print(f"bulk approval: {done.done:,} proposals in {time.perf_counter() - started:.2f} s")
    lines = ["Supplier GSTIN,Document type,Document number,Action,Internal note"] + [
        f"{SUPPLIER},Invoice,B-{i},Reject,from the bench"
        for i in range(args.proposals, args.proposals + args.sheet_lines)]
    data = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    preview = preview_sheet(data, [GSTIN], "ana@x.in", "bench.csv")
    checked = time.perf_counter() - started
    result = save_sheet(preview, [GSTIN], "ana@x.in")
    print(f"sheet of {args.sheet_lines:,} lines: preview {checked:.2f} s, "
          f"save {time.perf_counter() - started - checked:.2f} s "
          f"({result.saved:,} saved, {result.proposed:,} proposed)")


if __name__ == "__main__":
    main()
