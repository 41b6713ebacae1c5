"""The worker's mail jobs: the daily digest (one recorded job `digest` a day at the Settings
time, like the backup; each user's digest claimed in `digest_days` before it is sent, so two
workers never send it twice) and the mail to admins when a job fails (every failed run once,
found by the run number last mailed)."""
from __future__ import annotations

import datetime as dt
import html

from core.auth import User, list_users
from core.clock import aware, business_tz, to_store, utc_now
from core.digest.contents import digest_for, digest_html, digest_subject
from core.digest.settings import load_digest_settings
from core.ims import dashboard as ims_dashboard
from core.jobs import SCHEDULED, DueJob, latest_slot
from core.mail import send_mail
from core.store import claimed, connect, get_setting, put_setting, transaction
from core.timefmt import shown_time

DIGEST = "digest"
FAILURES_MAILED_KEY = "mail_failed_jobs_after"     # the last run_id mailed to admins


def _slot_served(con, slot: dt.datetime) -> bool:
    day = slot.astimezone(business_tz()).date()
    start = dt.datetime.combine(day, dt.time(0), business_tz())
    rows = con.execute(
        "SELECT count(*) FROM job_runs WHERE job = ? AND list_contains(?, triggered_by) "
        "AND NOT coalesce(stopped, false) AND slot >= ? AND slot < ?",
        [DIGEST, list(SCHEDULED), to_store(start),
         to_store(start + dt.timedelta(days=1))]).fetchall()
    return rows[0][0] > 0


def due_digest(now: dt.datetime, started_at: dt.datetime | None = None) -> DueJob | None:
    """Today's digest run when its time has come and no scheduled run served it yet."""
    with connect(read_only=True) as con:
        s = load_digest_settings(con)
        if not s.on:
            return None
        slot = latest_slot({"fetch_time": s.time}, now)
        if slot.date() != aware(now).astimezone(business_tz()).date() or _slot_served(con, slot):
            return None             # today's time still ahead, or served
    late = started_at is not None and slot < aware(started_at) - dt.timedelta(minutes=1)
    return DueJob(DIGEST, None, slot, "catch-up" if late else "schedule")


def _claim_day(user_id: int, day: dt.date) -> bool:
    with connect() as con:
        return bool(con.execute(
            "INSERT INTO digest_days (user_id, day, claimed_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING user_id", [user_id, day, utc_now()]).fetchall())


def _unclaim_day(user_id: int, day: dt.date) -> None:
    with connect() as con:
        con.execute("DELETE FROM digest_days WHERE user_id = ? AND day = ? AND mail_id IS NULL",
                    [user_id, day])


def digest_readers() -> list[User]:
    """Active users whose digest is on."""
    return [User(u["user_id"], u["email"], u["role"], u["disabled"]) for u in list_users()
            if not u["disabled"] and u["digest_opt_in"]]


def send_digests(now: dt.datetime | None = None, sent_by: str = "worker",
                 force: bool = False) -> dict:
    """Each reader's digest of today, once per user and day (`force`: again, e.g. `digest
    --now`) -> counts by how each mail ended."""
    now = aware(now or utc_now())
    day = now.astimezone(business_tz()).date()
    with connect(read_only=True) as con:
        days_ahead = load_digest_settings(con).days_ahead
    counts: dict[str, int] = {}
    for user in digest_readers():
        if not force and not _claim_day(user.user_id, day):
            counts["already sent"] = counts.get("already sent", 0) + 1
            continue
        try:
            digest = digest_for(user, days_ahead, today=day, now=to_store(now))
        except Exception:
            _unclaim_day(user.user_id, day)     # `digest --now` or tomorrow's run sends it
            raise
        outcome = send_mail(None, to=[user.email], subject=digest_subject(digest),
                            html=digest_html(digest), sent_by=sent_by, purpose="digest")
        with connect() as con:
            con.execute("UPDATE digest_days SET mail_id = ? WHERE user_id = ? AND day = ?",
                        [outcome.mail_id, user.user_id, day])
        counts[outcome.state] = counts.get(outcome.state, 0) + 1
    return counts


def digest_job(clock):
    """The job the worker runs, called as fn(gstin, run_id, slot, triggered_by)."""
    def run(gstin, run_id: int, slot, triggered_by: str) -> dict:
        return send_digests(clock.now())
    return run


def mail_job_failures(now: dt.datetime | None = None) -> int:
    """One mail to the active admins for each job run that failed since the last one mailed
    (the first call only notes where to start) -> how many runs were mailed."""
    with claimed("mail|job failures") as mine:
        if not mine:
            return 0
        with connect() as con, transaction(con):
            after = get_setting(con, FAILURES_MAILED_KEY)
            last = con.execute("SELECT coalesce(max(run_id), 0) FROM job_runs "
                               "WHERE finished_at IS NOT NULL").fetchall()[0][0]
            if after is None:
                put_setting(con, FAILURES_MAILED_KEY, str(last))
                return 0
            failed = con.execute(
                "SELECT run_id, job, gstin, triggered_by, finished_at, error FROM job_runs "
                "WHERE run_id > ? AND run_id <= ? AND finished_at IS NOT NULL AND ok = false "
                "AND NOT coalesce(stopped, false) ORDER BY run_id",
                [int(after), last]).fetchall()
            if last > int(after):
                put_setting(con, FAILURES_MAILED_KEY, str(last))
    admins = [u["email"] for u in list_users() if u["role"] == "admin" and not u["disabled"]]
    if not failed or not admins:
        return 0
    for run_id, job, gstin, triggered_by, finished, error in failed:
        what = ims_dashboard.job_words(job) + (f" of {gstin}" if gstin else "")
        body = (f"<p><b>{html.escape(what)} failed</b> on {html.escape(shown_time(finished))} "
                f"(run {run_id}, started by {html.escape(triggered_by or 'unknown')}).</p>"
                f"<p>Why: {html.escape(error or 'no reason given')}</p>"
                "<p>The Dashboard and <code>python worker.py status</code> show every job's "
                "state; a scheduled job runs again at its next time.</p>")
        send_mail(None, to=admins, subject=f"IMS Reco Sync: {what} failed", html=body,
                  sent_by="worker", purpose="job failed", business_id=gstin)
    return len(failed)
