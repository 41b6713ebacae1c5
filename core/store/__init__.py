"""The store: the DuckDB file shared by the app and the worker, or in team mode a PostgreSQL
database (connect, transaction, settings, migrations, claims on jobs)."""
from __future__ import annotations

from core.store.claims import (
    announce_worker,
    claimed,
    several_workers,
    team_mode,
    worker_present,
)
from core.store.database import (
    DatabaseBusy,
    connect,
    db_path,
    get_setting,
    let_go_of_idle_files,
    lock_wait_stats,
    migrate,
    migration_files,
    put_setting,
    transaction,
    worker_lock_path,
)
from core.store.dialect import (
    commit_unhurried,
    earliest,
    int_or_null,
    latest,
    refresh_statistics,
    register_keyed,
    replace_empty_temp_table,
    replace_temp_table,
    rows_per_transaction,
    sent_together,
)
from core.store.frames import append_frame, frame_of, query_frame, query_table
from core.store.secret_key import configured_key, read_or_make_key
from core.store.side_by_side import side_by_side
from core.store.version import store_version

__all__ = ["DatabaseBusy", "announce_worker", "append_frame", "claimed", "commit_unhurried", "configured_key", "connect", "db_path", "earliest", "frame_of", "get_setting", "int_or_null", "latest", "let_go_of_idle_files", "lock_wait_stats", "migrate", "migration_files", "put_setting", "query_frame", "query_table", "read_or_make_key", "refresh_statistics", "register_keyed", "replace_empty_temp_table", "replace_temp_table", "rows_per_transaction", "sent_together", "several_workers", "side_by_side", "store_version", "team_mode", "transaction", "worker_lock_path", "worker_present"]
