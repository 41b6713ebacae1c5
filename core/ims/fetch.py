"""Fetching from the portal into the store: the fetch verbs (docs/architecture.md).

`fetch_ims` reads every IMS section over HTTP and parses it with no database connection
open, checks the totals against GETCNT, reads what the store holds (one short read), works
out what differs with no connection open, then writes only that in ONE short transaction
(`core.ims.store`, `core.ims.diff`; docs/store.md). `fetch_gstr2a` replaces the GSTR-2A documents of whole return periods.
`fetch_business` does both for one business (IMS, then GSTR-2A for the periods the IMS
records belong to); `fetch_businesses` does that for several, one failing business not
stopping the others.

Each verb is one recorded job (`core.jobs.runs`: `fetch_ims`, `fetch_2a`, `fetch`). A failure
leaves the store as it was and records only the failed run. The worker's schedule runs
`ingest_business` inside its own recorded run. The client: `core.portal.client`.
"""
from __future__ import annotations

import datetime as dt
import logging

import polars as pl

from core.business import choose_businesses
from core.clock import today as business_day
from core.clock import utc_now
from core.documents import SECTION_REQUEST
from core.ims.diff import plan_gstr2a
from core.ims.store import (
    gstr2a_frame_of,
    held_gstr2a,
    held_ims,
    incoming_frame,
    plan_is_current,
    plan_snapshot,
    write_gstr2a,
    write_ims,
)
from core.jobs import runs as jobs
from core.portal import (
    SECTION_KEYS,
    GstnClient,
    GstnError,
    ReauthenticationNeeded,
    ims_frame,
    records_frame,
    skip_filed_occurrences,
    track_filings_in_fetch,
)
from core.portal import payload as portal
from core.store import DatabaseBusy, connect, refresh_statistics, transaction

log = logging.getLogger(__name__)

IMS_SECTIONS_ALL_OTH = ("B2B", "B2BA", "CN", "CNA", "DN", "DNA", "ECOM", "ECOMA")
# Import of goods (GETCNT goods_typ IMP_GDS): bills of entry through a port, their amendments,
# and those from SEZ units, with theirs. The answer keys are the lower-case request names.
IMS_SECTIONS_IMP_GDS = ("IMPG", "IMPGA", "IMPGSEZ", "IMPGSEZA")
IMPORT_KEYS = tuple(SECTION_KEYS[s] for s in IMS_SECTIONS_IMP_GDS)
GSTR2A_ACTIONS = ("B2B", "B2BA", "CDN", "CDNA")


class CountMismatch(GstnError):
    """The records read do not add up to what GETCNT says: nothing is written."""


# ---------------------------------------------------------------- reading (no connection held)


def _section_total(value) -> int | None:
    """GETCNT section entry -> its record count ({"noaction": 11, "accept": 1, ...} or a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):
        return sum(int(v) for k, v in value.items()
                   if isinstance(v, (int, float)) and k != "ttl_cnt")
    return None


def _section_key(key: str) -> str:
    """A GETCNT section key as the store names the section (`cn` -> `b2bcn`)."""
    key = key.lower()
    return key if key in IMPORT_KEYS else portal.SECTION_ALIASES.get(key, key)


def check_counts(counts: dict, group: str, records: list[dict] | pl.DataFrame) -> None:
    """Raise CountMismatch unless the records (or their frame) add up to GETCNT's totals (per
    section too)."""
    body = counts.get(group) or counts.get(group.upper()) or {}
    got: dict[str, int] = {}
    if isinstance(records, pl.DataFrame):
        got = dict(records.group_by("section").len().iter_rows())
    for r in records if isinstance(records, list) else ():
        got[r["section"]] = got.get(r["section"], 0) + 1
    expected_total = body.get("ttl_cnt")
    known = set(SECTION_REQUEST.values()) | set(IMPORT_KEYS)
    problems = []
    for key, value in body.items():
        section = _section_key(key)
        n = _section_total(value) if key != "ttl_cnt" else None
        if n is not None and section in known and n != got.get(section, 0):
            problems.append(f"{section}: counted {n}, read {got.get(section, 0)}")
    read = len(records)
    if expected_total is not None and int(expected_total) != read:
        problems.insert(0, f"total: counted {int(expected_total)}, read {read}")
    if problems:
        raise CountMismatch(f"The portal's counts (GETCNT {group}) do not match the records read "
                            f"(GETINV): {'; '.join(problems)}. Nothing was written; fetch again.")


def read_ims(client: GstnClient, gstin: str) -> pl.DataFrame:
    """Every IMS section over HTTP, checked against GETCNT (no database connection held), as
    one records frame (each answer read by columns when clean: core.portal.payload)."""
    counts = client.get_counts(gstin, "ALL_OTH")
    records = pl.concat([read_section(client, gstin, request)
                         for request in IMS_SECTIONS_ALL_OTH])
    check_counts(counts, "all_oth", records)
    return pl.concat([records, read_import_of_goods(client, gstin)])


def read_section(client: GstnClient, gstin: str, request: str) -> pl.DataFrame:
    """One IMS section as a records frame. A file-based answer is read file by file: each
    file is decoded and read into columns before the next one is downloaded, so only one
    file's Python objects are held at a time; its records go on counting (`line`) where the
    file before stopped, as they would in one answer."""
    frames, first = [], 1
    for part in client.ims_section_parts(gstin, request):
        frames.append(ims_frame(part, first))
        first += frames[-1].height
        del part   # not held while the next file comes
    return pl.concat(frames) if frames else records_frame([])


def read_import_of_goods(client: GstnClient, gstin: str) -> pl.DataFrame:
    """Bills of entry of the four import-of-goods sections (IMPG, IMPGA, IMPGSEZ, IMPGSEZA),
    checked against GETCNT IMP_GDS; none when the portal counts none or does not serve them."""
    try:
        counts = client.get_counts(gstin, "IMP_GDS")
    except ReauthenticationNeeded:
        raise
    except GstnError as exc:
        log.info("IMP_GDS counts not available for %s: %s", gstin, exc)
        return records_frame([])
    body = counts.get("imp_gds") or {}
    if not body.get("ttl_cnt"):
        return records_frame([])
    records = pl.concat([read_section(client, gstin, request)
                         for request in IMS_SECTIONS_IMP_GDS])
    check_counts(counts, "imp_gds", records)
    return records


def read_gstr2a(client: GstnClient, gstin: str, periods: list[str]) -> pl.DataFrame:
    """GSTR-2A B2B, B2BA, CDN, CDNA of each period as one records frame (rtnprd = the
    period), each answer read by columns when clean."""
    frames = [read_gstr2a_section(client, gstin, period, action)
              .with_columns(pl.lit(period, pl.Utf8).alias("rtnprd"))
              for period in periods for action in GSTR2A_ACTIONS]
    return pl.concat(frames) if frames else records_frame([])


def read_gstr2a_section(client: GstnClient, gstin: str, period: str,
                        action: str) -> pl.DataFrame:
    """One GSTR-2A section of one period as a records frame. A large answer comes as files
    (a token, then FILEDET's urls), read as read_section reads IMS files: one file held at a
    time, its documents and supplier groups numbered on from the file before."""
    frames, first, first_group = [], 1, 1
    for part in client.gstr2a_answers(gstin, period, action):
        frames.append(portal.gstr2a_frame(part, first, first_group))
        first += frames[-1].height
        first_group += portal.supplier_groups(part, action.lower())
        del part   # not held while the next file comes
    return pl.concat(frames) if frames else records_frame([])


def recent_periods(today: dt.date | None = None, months: int = 3) -> list[str]:
    """The current month and the ones before it, as MMYYYY."""
    today = today or business_day()
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{m:02d}{y}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def ims_periods(gstin: str) -> list[str]:
    """Return periods (rtnprd) of the IMS records currently on the portal for `gstin`."""
    with connect() as con:
        rows = con.execute("SELECT DISTINCT rtnprd FROM ims_records WHERE rtin = ? "
                           "AND removed_at IS NULL AND rtnprd IS NOT NULL ORDER BY 1",
                           [gstin]).fetchall()
    return [r[0] for r in rows]


# ---------------------------------------------------------------- the work of one fetch


def ingest_ims(client: GstnClient, gstin: str, actor: str) -> dict:
    """Read every IMS section, then store what differs in one short transaction -> counts."""
    frame = incoming_frame(gstin, read_ims(client, gstin))    # HTTP: no connection held
    with connect(read_only=True) as con:
        frame = skip_filed_occurrences(con, gstin, frame)
        held = held_ims(con, gstin)
    plan = plan_snapshot(gstin, frame, held)                  # Polars: no connection held
    with connect() as con:
        with transaction(con):
            if not plan_is_current(con, gstin, plan):         # another fetch came between
                plan = plan_snapshot(gstin, frame, held_ims(con, gstin))
            counts = write_ims(con, gstin, plan, utc_now(), actor)
        refresh_statistics(con, "ims_records",
                           counts["new"] + counts["changed"] + counts["removed"])
    return counts


def ingest_gstr2a(client: GstnClient, gstin: str, periods: list[str]) -> dict:
    """Read GSTR-2A of `periods`, then make the store's periods equal to it, writing only the
    documents that differ, in one short transaction -> counts."""
    periods = sorted(set(periods))
    frame = gstr2a_frame_of(gstin, read_gstr2a(client, gstin, periods))
    with connect(read_only=True) as con:
        held = held_gstr2a(con, gstin, periods)
    plan = plan_gstr2a(frame, held)                           # Polars: no connection held
    with connect() as con:
        with transaction(con):   # only the fetch writes 2A: the plan holds
            counts = write_gstr2a(con, gstin, periods, frame, plan, utc_now())
        refresh_statistics(con, "gstr2a_docs", counts["written"])
    return counts


def ingest_business(client: GstnClient, gstin: str, actor: str) -> dict:
    """GSTR-3B filing status (RETTRACK, first: records a filing took out of IMS are then kept,
    not removed), IMS, then GSTR-2A for the periods the IMS records belong to (or the last 3
    months)."""
    filings = track_filings_in_fetch(client, gstin, actor)
    ims = ingest_ims(client, gstin, actor)
    gstr2a = ingest_gstr2a(client, gstin, ims_periods(gstin) or recent_periods())
    return {"filings": filings, "ims": ims, "gstr2a": gstr2a}


# ---------------------------------------------------------------- the verbs (recorded jobs)


def fetch_ims(gstin: str, client: GstnClient | None = None, actor: str = "worker", *,
              triggered_by: str | None = None) -> dict:
    """Fetch every IMS section of `gstin` and upsert it into `ims_records` (job 'fetch_ims').

    Returns {new, changed, returned, unchanged, removed, actions_reset, total, run_id}.
    Raises GstnError / ReauthenticationNeeded / CountMismatch / PayloadError after recording
    the failed job; then nothing else in the store has changed.
    """
    client = client or GstnClient()
    return jobs.record_run(jobs.FETCH_IMS, gstin, lambda run_id: ingest_ims(client, gstin, actor),
                           triggered_by=triggered_by or actor)


def fetch_gstr2a(gstin: str, periods: list[str], client: GstnClient | None = None,
                 actor: str = "worker", *, triggered_by: str | None = None) -> dict:
    """Fetch GSTR-2A (B2B, B2BA, CDN, CDNA) for `periods` (MMYYYY) and replace them in
    gstr2a_docs in one transaction (job 'fetch_2a')."""
    client = client or GstnClient()
    return jobs.record_run(jobs.FETCH_2A, gstin,
                           lambda run_id: ingest_gstr2a(client, gstin, periods),
                           triggered_by=triggered_by or actor)


def fetch_business(gstin: str, client: GstnClient | None = None, actor: str = "worker", *,
                   triggered_by: str | None = None) -> dict:
    """IMS, then GSTR-2A, of one business as one job ('fetch') -> {ims, gstr2a, run_id}."""
    client = client or GstnClient()
    return jobs.record_run(jobs.FETCH, gstin,
                           lambda run_id: ingest_business(client, gstin, actor),
                           triggered_by=triggered_by or actor)


def fetch_businesses(gstins: list[str] | None = None, client: GstnClient | None = None,
                     actor: str = "worker", *, triggered_by: str | None = "cli") -> dict:
    """Fetch each business (all enabled ones when `gstins` is None).

    Returns {gstin: {"ok": True, "ims": counts, "gstr2a": counts}} or
    {gstin: {"ok": False, "error": reason, "reauthenticate": bool}}; one business failing
    does not stop the others. Raises UnknownBusiness (core.business.registry) before fetching
    anything when a GSTIN asked for is not configured.
    """
    targets = [b["gstin"] for b in choose_businesses(gstins)]
    client = client or GstnClient()
    return {gstin: _fetch_one(gstin, client, actor, triggered_by) for gstin in targets}


def _fetch_one(gstin: str, client: GstnClient, actor: str, triggered_by: str | None) -> dict:
    try:
        return {"ok": True, **fetch_business(gstin, client, actor, triggered_by=triggered_by)}
    except (GstnError, portal.PayloadError, DatabaseBusy) as exc:
        return {"ok": False, "error": str(exc),
                "reauthenticate": isinstance(exc, ReauthenticationNeeded)}
    except Exception as exc:
        log.exception("fetch %s failed", gstin)   # one business failing must not stop the others
        return {"ok": False, "error": jobs.failure_text(exc), "reauthenticate": False}
