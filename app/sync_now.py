"""Settings' note on "Sync Action From" and its "Sync now" button (docs/reconciliation.md,
"Sync source"): what the source decides, and applying a change at once."""
from __future__ import annotations

import streamlit as st

from app import ui
from core.business import SYNC_SOURCES
from core.ims import apply_sync
from core.jobs import runs as jobs
from core.suppliers import review_cases

EXPLAINED = ("**Sync Action From decides only the recommendation** (and the match status shown "
             "with it). Every sync reconciles the IMS records with the purchase register *and* "
             "GSTR-2A with it, and keeps both runs; each record's books counterpart stays as IMS "
             "vs PR matched it. After a change the IMS grid and the Dashboard's figures follow "
             "the new source from the next sync (within 2 hours of the fetch), or at once with "
             "**Sync now**.")


def sync_now_block(gstins: list[str], sources: dict[str, str], actor: str) -> None:
    """The explanation and "Sync now" for the businesses `gstins` (source per GSTIN)."""
    st.info(EXPLAINED, icon=":material/sync_alt:")
    if not (st.button("Sync now", icon=":material/sync:", disabled=not ui.can("reconcile"))
            and ui.permitted("reconcile", "run a sync")):
        return
    with st.status("Syncing ...", expanded=True) as status:
        for gstin in gstins:
            done = jobs.run_job(jobs.SYNC, gstin, lambda rid, g=gstin: {
                **apply_sync(g, actor=actor, job_run_id=rid),
                "supplier_cases": review_cases(g, actor)}, triggered_by=actor)
            source = SYNC_SOURCES.get(sources.get(gstin), sources.get(gstin))
            st.write(f"{ui.label_business(gstin)}: " + (
                f"synced from {source}" if done.ok else f"not synced: {done.error}"))
        status.update(label="Sync done.", state="complete")
    ui.after_write()
