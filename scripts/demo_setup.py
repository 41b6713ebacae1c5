"""First-run preparation of the demo store: businesses, purchase register, fetch, sync, login.

Idempotent: a store that already has businesses is left as it is (the demo admin is
ensured either way; its random password is returned only on the run that made it).
"""
from __future__ import annotations

from pathlib import Path

from core.auth import ensure_demo_admin
from core.business import save_business
from core.ims import apply_sync, fetch_businesses
from core.jobs import SYNC, run_job
from core.purchase import import_purchase_file
from core.store import connect, db_path
from sandbox.demo import DEMO_BUSINESSES
from sandbox.generate import generate_files


def store_is_prepared() -> bool:
    with connect() as con:
        return con.execute("SELECT count(*) FROM businesses").fetchall()[0][0] > 0


def configure_demo_businesses() -> list[str]:
    for b in DEMO_BUSINESSES:
        save_business(b["gstin"], b["name"], actor="demo", fetch_time="06:00",
                      sync_source="ims_vs_pr")
    return [b["gstin"] for b in DEMO_BUSINESSES]


def import_demo_purchase_register(out_dir: Path, gstins: list[str], seed: int, scale: int) -> None:
    for gstin in gstins:
        files = generate_files(out_dir / gstin, records=scale, seed=seed, gstin=gstin,
                               books_only=True)
        result = import_purchase_file(files["purchase_register"], actor="demo", on_duplicate="skip")
        print(f"  purchase register {gstin}: {result.summary()}")


def fetch_and_sync(gstins: list[str]) -> None:
    """The first fetch and sync, recorded in job_runs like the worker's own runs."""
    for gstin, outcome in fetch_businesses(gstins, actor="demo", triggered_by="demo").items():
        if not outcome.get("ok"):
            raise SystemExit(f"Demo fetch for {gstin} failed: {outcome.get('error')}")
        sync = run_job(SYNC, gstin,
                       lambda run_id, g=gstin: apply_sync(g, actor="demo", job_run_id=run_id),
                       triggered_by="demo")
        if not sync.ok:
            raise SystemExit(f"Demo sync for {gstin} failed: {sync.error}")
        print(f"  fetched and synced {gstin}: {outcome['ims'].get('total')} IMS records, "
              f"{sync.counts.get('records')} recommendations")


def prepare_demo(out_dir: Path, seed: int = 7, scale: int = 3000, fresh: bool = False) -> dict:
    """Build the demo on an empty store; return the demo admin's login for the banner."""
    if fresh:
        for suffix in ("", ".wal"):
            Path(db_path() + suffix).unlink(missing_ok=True)
    if not store_is_prepared():
        print(f"== preparing the demo store {db_path()} (first run)", flush=True)
        gstins = configure_demo_businesses()
        import_demo_purchase_register(out_dir, gstins, seed, scale)
        fetch_and_sync(gstins)
    return ensure_demo_admin()  # IMS_DEMO_ADMIN_PASSWORD, else random (returned once)
