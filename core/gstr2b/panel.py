"""The Dashboard's GSTR-2B panel, without Streamlit (docs/month-close.md, "Regenerating
GSTR-2B"): per business, the stored 2Bs (period, version, generation date, when fetched) and
"2B needs regeneration" (the count of `core.gstr2b.store.late_actions` per period, with the
2B's generation date); and the regeneration a user asks for there, run as one recorded job
(`gstr2b_regenerate`, core/jobs/runs.py) that calls GEN2B, polls GENSTS2B and fetches the new 2B.
"""
from __future__ import annotations

import datetime as dt

from core.auth import PermissionDenied, User, require, user_gstins
from core.business import supplier_labels
from core.calendar import business_calendar, day_text
from core.figures import count_words, counted, rupees
from core.gstr2b.job import regenerate_gstr2b
from core.gstr2b.store import late_actions, late_records
from core.jobs import GSTR2B_REGENERATE, record_run
from core.labels import date_words, doc_type_words
from core.store import connect
from core.timefmt import shown_time

SHOWN_PERIODS = 6   # the newest stored 2Bs listed per business


def gstr2b_panel(gstins: list[str]) -> list[dict]:
    """One dict per business (by name): {gstin, name, late: [{period, label, count,
    generated}], stored: [{period, label, version, generated, fetched, documents}]},
    every value already in words (dates as '14 Nov 2025', times with their zone)."""
    late = late_actions(list(gstins)) if gstins else {}
    with connect(read_only=True) as con:
        names = con.execute("SELECT gstin, name FROM businesses WHERE "
                            "list_contains(?::VARCHAR[], gstin) ORDER BY name, gstin",
                            [list(gstins)]).fetchall()
        stored = con.execute(
            "SELECT gstin, rtnprd, version, gendt, fetched_at, documents FROM gstr2b_returns "
            "WHERE list_contains(?::VARCHAR[], gstin) "
            "ORDER BY gstin, right(rtnprd, 4) DESC, left(rtnprd, 2) DESC",
            [list(gstins)]).fetchall()
        calendars = {g: business_calendar(con, g) for g, _ in names}
    out = []
    for gstin, name in names:
        label = calendars[gstin].label
        mine = [r for r in stored if r[0] == gstin]
        generated = {r[1]: r[3] for r in mine}
        out.append({
            "gstin": gstin, "name": name,
            "late": [{"period": p, "label": label(p), "count": n,
                      "generated": _day(generated.get(p))}
                     for (g, p), n in sorted(late.items(), key=lambda i: (i[0][1][2:],
                                                                          i[0][1][:2]))
                     if g == gstin and n],
            "stored": [{"period": p, "label": label(p), "version": str(v or ""),
                        "generated": _day(d), "fetched": shown_time(f), "documents": docs}
                       for _, p, v, d, f, docs in mine[:SHOWN_PERIODS]]})
    return out


def _day(day: dt.date | None) -> str:
    return day_text(day) if day else "not given"


LATE_SHOWN = 200   # records listed under "needs regeneration", the largest value first


def late_record_rows(gstin: str, period: str) -> list[dict]:
    """The records that make the 2B of `period` need regeneration, in words, the largest value
    first: Supplier, Document, Date, Value, Why."""
    return [{"Supplier": row["supplier_name"] or supplier_labels(gstin, [row["stin"]])[
                 row["stin"]],
             "Supplier GSTIN": row["stin"],
             "Document": f"{doc_type_words(row['doc_type'])} {row['doc_no']}",
             "Date": date_words(row["doc_date"]), "Value": rupees(row["value"] or 0),
             "Why": row["why"]} for row in late_records(gstin, period, LATE_SHOWN)]


def late_count(gstin: str, period: str) -> int:
    """How many IMS records of the period now disagree with its stored 2B."""
    return late_actions([gstin]).get((gstin, period), 0)


def regenerate_from_dashboard(user: User, gstin: str, period: str, poll: float = 0.2) -> dict:
    """The user's "Regenerate GSTR-2B": permission `upload`; GEN2B, GENSTS2B, the new 2B
    fetched, as one recorded job -> {version, documents, late, outcome (words)}. A filed
    period raises PeriodFiled (words), recorded as the run's failure."""
    require(user, "upload")
    if gstin not in user_gstins(user):     # the role is not enough: the GSTIN must be theirs
        raise PermissionDenied(f"{user.email} may not regenerate GSTR-2B of {gstin}: it is not "
                               "one of the businesses granted to them; ask an admin")
    with connect(read_only=True) as con:
        label = business_calendar(con, gstin).label(period)

    def work(run_id: int) -> dict:
        done = regenerate_gstr2b(gstin, period, poll=poll)
        made = f", generated on {day_text(done['gendt'])}" if done.get("gendt") else ""
        left = done.get("late", 0)
        return {**done, "outcome": (
            f"GSTR-2B of {label} regenerated on request of {user.email} (version "
            f"{done.get('version')}{made}, {counted(done.get('documents', 0), 'document')}); "
            + (f"{count_words(left)} IMS record(s) still disagree with it." if left
               else "it now agrees with the IMS actions.")) if done.get("generated") else
            f"GSTR-2B of {label} is not generated on the portal yet."}

    return record_run(GSTR2B_REGENERATE, gstin, work, triggered_by=user.email)
