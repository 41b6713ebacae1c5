"""Several sessions on IMS Invoices at once never freeze the app (issue 29, item 1).

The freeze was a deadlock between the GIL and Polars' thread pool: one session in Polars
(`to_pandas()`) held the GIL while it waited for the pool, and the pool's threads waited for
the GIL inside another session's Python callback (`map_elements` in `labels.worded`,
`figures.amounts_as_text`). Here three threads render the page's own grid (`records_page` ->
`browse_frame` / `grid_frame`) and the labelling functions again and again on a store with
data; every render must finish in time. Before the fix they froze after 3 renders of 120.

A GIL deadlock freezes the whole interpreter, the main thread waiting in `join()` too, so the
threads run in a child process: in it, `join(timeout)` fails a session that does not finish
(and faulthandler prints the stacks and ends it if even that cannot run); the parent kills a
child that does not answer at all.
"""
from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
import threading
import time

import polars as pl

from app import ims_grid as grid
from core import labels
from core.business.registry import list_businesses
from core.figures import amounts_as_text
from core.ims import view
from core.reco.view import shown_results
from tests.fixtures import ROOT, seed_demo

THREADS, RENDERS, SECONDS = 3, 40, 60


def render(gstins: list[str], page: int) -> None:
    """One render of IMS Invoices' records: the page of records, the records view, the actions
    editor, and the words and amounts of the labelling functions, each made a pandas frame as
    Streamlit does."""
    rows = view.records_page(gstins, view.ImsFilter(), None, page, 50)
    grid.browse_frame(rows, list(grid.BROWSE_CONFIG))
    grid.grid_frame(rows, list(grid.GRID_CONFIG))
    worded = labels.worded(rows, {"match_status": "match_status", "reasons": "reasons",
                                  "section": "section", "rtnprd": "period", "doc_date": "date"})
    amounts_as_text(worded, "txval", "tax", "val").to_pandas()
    shown_results(rows.rename({"doc_date": "portal_doc_date"})).to_pandas()
    pl.DataFrame({"n": range(2000)}).to_pandas()


def render_in_threads(threads: int = THREADS, renders: int = RENDERS,
                      seconds: float = SECONDS) -> None:
    """The child: `threads` sessions render `renders` times each; prints a line per render and
    a summary, exits 1 when a session did not finish within `seconds`."""
    faulthandler.dump_traceback_later(seconds + 5, exit=True)   # frozen: the stacks, then out
    gstins = list_businesses()["gstin"].to_list()
    done = [0] * threads
    failed: list[BaseException] = []

    def session(n: int) -> None:
        try:
            for page in range(renders):
                render(gstins, page % 3 + 1)
                done[n] += 1
                print(f"session {n} render {page + 1}", flush=True)
        except BaseException as exc:  # noqa: BLE001 - the summary reports it
            failed.append(exc)

    started = time.monotonic()
    workers = [threading.Thread(target=session, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(seconds - (time.monotonic() - started), 0.1))
    hung = sum(w.is_alive() for w in workers)
    print(f"renders={sum(done)} of {threads * renders} hung={hung} failed={failed!r} "
          f"seconds={time.monotonic() - started:.1f}", flush=True)
    os._exit(1 if hung or failed else 0)   # a hung thread would keep a normal exit waiting


def test_sessions_render_ims_invoices_together_without_freezing(db_file):
    seed_demo(n_per_business=150, with_jobs=False)   # three pages of 50 per business
    code = ("from tests.test_two_sessions import render_in_threads; "
            f"render_in_threads({THREADS}, {RENDERS}, {SECONDS})")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=False,
                              capture_output=True, text=True, timeout=SECONDS + 30)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        raise AssertionError(f"the sessions froze after {out.count(' render ')} renders") \
            from None
    renders = done.stdout.count(" render ")
    froze = f"the sessions froze or failed after {renders} renders of {THREADS * RENDERS}"
    assert done.returncode == 0, (froze, done.stdout[-500:], done.stderr[-4000:])
    assert f"renders={THREADS * RENDERS} of {THREADS * RENDERS} hung=0 failed=[]" in done.stdout
