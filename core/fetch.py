"""The GSTN-shaped API client and ingestion into the store (spec/gstn-api.md).

Client: `GstnClient` speaks GSTN's request/response shapes over HTTP(S)/JSON. Every call
has a timeout; HTTP 429/5xx and connection errors are retried with exponential backoff and
jitter; an expired session (AUTH4033/AUTH4038) gets one fresh login, then
`ReauthenticationNeeded`; queued answers (`{"token", "est"}`, RTN_24) are waited for through
FILEDET; a save already running (IMSSAV0015) is waited for and retried.

Ingestion: `fetch_ims` reads every IMS section over HTTP and parses it with no database
connection open, checks the totals against GETCNT, then writes everything in ONE
transaction, set-based (`store_ims`: INSERT ... SELECT / UPDATE ... FROM a registered frame). A failure leaves the store as it was and
records only the failed `job_runs` row.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import random
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import requests

from core import portal
from core.db import DatabaseBusy, connect, transaction
from core.documents import SECTION_REQUEST, fy_expr, raw_no_expr

log = logging.getLogger(__name__)

IMS_PATH = "/taxpayerapi/v1.0/returns/ims"
GSTR2A_PATH = "/taxpayerapi/v1.0/returns/gstr2a"
SESSION_ERRORS = {"AUTH4033", "AUTH4038"}
NO_DOCUMENTS = {"RET11416", "RET13508"}
QUEUED = "RTN_24"
SAVE_BUSY = "IMSSAV0015"
IMS_SECTIONS_ALL_OTH = ("B2B", "B2BA", "CN", "CNA", "DN", "DNA", "ECOM", "ECOMA")
GSTR2A_ACTIONS = ("B2B", "B2BA", "CDN", "CDNA")


class GstnError(RuntimeError):
    """The portal answered with an error envelope, or could not be reached in time."""

    def __init__(self, message: str, error_cd: str | None = None, http_status: int | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.error_cd = error_cd
        self.http_status = http_status
        self.details = details or {}


class ReauthenticationNeeded(GstnError):
    """The GSP session expired and a fresh login did not help: re-authenticate with the GSP
    (new OTP / API access enabled on the portal), then run the fetch again."""


# ---------------------------------------------------------------- configuration


@dataclass
class GspConfig:
    """Where the GSP is and how to log in. Secrets never go to logs or the database."""

    url: str = "http://127.0.0.1:8765"
    username: str = "demo"
    otp: str = field(default="575757", repr=False)
    extra: dict = field(default_factory=dict, repr=False)  # other [gsp] keys, for adapters

    @classmethod
    def load(cls, secrets_path: str | Path = ".streamlit/secrets.toml") -> "GspConfig":
        """Environment first (GSTN_API_URL, GSTN_USERNAME, GSTN_OTP), then the [gsp] section
        of .streamlit/secrets.toml (keys url, username, otp, anything else -> extra)."""
        section = {}
        path = Path(secrets_path)
        if path.is_file():
            section = dict(tomllib.loads(path.read_text()).get("gsp", {}))
        url = os.environ.get("GSTN_API_URL") or section.pop("url", None) or cls.url
        username = os.environ.get("GSTN_USERNAME") or section.pop("username", None) or cls.username
        otp = os.environ.get("GSTN_OTP") or section.pop("otp", None) or "575757"
        section.pop("url", None), section.pop("username", None), section.pop("otp", None)
        return cls(url=url.rstrip("/"), username=username, otp=str(otp), extra=section)


class GspAdapter:
    """The seam for a real GSP: how to log in, which headers each call carries, and how to
    read the answer envelope. The default speaks the bundled sandbox's dialect.

    To use a real GSP, subclass and override:
    - `login(session, timeout) -> token`: the GSP's auth call (e.g. OTPREQUEST/AUTHTOKEN
      through the GSP's own endpoint, with its client id/secret from `config.extra`).
    - `headers(token, gstin) -> dict`: what the GSP wants on every call (auth token,
      gstin, state-cd, ip-usr, client id, ...).
    - `unwrap(body) -> dict`: turn the GSP's envelope into GSTN's `{"status_cd", "data" |
      "error"}` (decrypting if the GSP does not).
    Then pass it: `GstnClient(adapter=MyGsp(GspConfig.load()))`.
    """

    auth_path = "/authenticate"

    def __init__(self, config: GspConfig):
        self.config = config

    def login(self, session: requests.Session, timeout: float) -> str:
        resp = session.post(self.config.url + self.auth_path, timeout=timeout,
                            json={"username": self.config.username, "otp": self.config.otp})
        body = self.unwrap(_json(resp))
        if str(body.get("status_cd")) != "1":
            error = body.get("error") or {}
            raise ReauthenticationNeeded(
                f"The GSP refused the login for user '{self.config.username}': "
                f"{error.get('message', 'no reason given')} ({error.get('error_cd', resp.status_code)}). "
                "Re-authenticate with the GSP (check the username and OTP).",
                error.get("error_cd"), resp.status_code)
        data = body.get("data") or {}
        token = data.get("auth_token") or data.get("token") or body.get("auth_token")
        if not token:
            raise GstnError("The GSP login answer carried no auth token")
        return str(token)

    def headers(self, token: str, gstin: str | None) -> dict:
        h = {"auth-token": token, "Authorization": f"Bearer {token}",
             "username": self.config.username}
        if gstin:
            h["gstin"] = gstin
        return h

    def unwrap(self, body: dict) -> dict:
        return body


def _json(resp: requests.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        raise GstnError(f"The GSP answered HTTP {resp.status_code} with something that is not "
                        f"JSON: {resp.text[:200]!r}", http_status=resp.status_code) from None
    if not isinstance(body, dict):
        raise GstnError(f"The GSP answered HTTP {resp.status_code} with JSON that is not an object")
    return body


# ---------------------------------------------------------------- the client


class GstnClient:
    """GSTN IMS and GSTR-2A calls through a GSP (or the sandbox).

    timeout: seconds per HTTP call. attempts: tries per call for 429/5xx/connection errors.
    backoff: first retry delay in seconds (doubles, with jitter, capped at `backoff_cap`).
    queue_first / queue_poll / queue_timeout: first wait, longest wait between polls, and the
    total time allowed for a queued (token) answer.
    """

    def __init__(self, config: GspConfig | None = None, adapter: GspAdapter | None = None,
                 timeout: float = 30.0, attempts: int = 5, backoff: float = 0.5,
                 backoff_cap: float = 8.0, queue_first: float = 0.3, queue_poll: float = 15.0,
                 queue_timeout: float = 900.0,
                 busy_attempts: int = 10):
        self.config = config or (adapter.config if adapter else GspConfig.load())
        self.adapter = adapter or GspAdapter(self.config)
        self.timeout, self.attempts, self.backoff, self.backoff_cap = timeout, attempts, backoff, backoff_cap
        self.queue_first, self.queue_poll, self.queue_timeout = queue_first, queue_poll, queue_timeout
        self.busy_attempts = busy_attempts
        self.session = requests.Session()
        self.token: str | None = None
        self.stats = {"calls": 0, "retries": 0, "logins": 0, "queued_waits": 0}

    def __repr__(self) -> str:
        return f"GstnClient(url={self.config.url!r}, user={self.config.username!r})"

    # -- plumbing

    def login(self) -> None:
        """A fresh session token (connection errors retried like any call)."""
        for attempt in range(1, self.attempts + 1):
            self.stats["logins"] += 1
            try:
                self.token = self.adapter.login(self.session, self.timeout)
                return
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.attempts:
                    raise GstnError(f"Login: the GSP at {self.config.url} could not be reached after "
                                    f"{self.attempts} attempts ({type(exc).__name__})") from exc
                self._sleep_before_retry(attempt)

    def _sleep_before_retry(self, attempt: int, retry_after: str | None = None) -> None:
        delay = min(self.backoff * (2 ** (attempt - 1)), self.backoff_cap)
        if retry_after and retry_after.strip().isdigit():
            delay = min(max(delay, float(retry_after)), self.backoff_cap)
        self.stats["retries"] += 1
        time.sleep(delay * (0.5 + random.random()))

    def _send(self, method: str, path: str, gstin: str | None, params: dict | None,
              body: dict | None) -> dict:
        """One HTTP exchange with retries for 429/5xx/connection errors; returns the envelope."""
        url = self.config.url + path
        what = f"{method} {path} {(params or {}).get('action', '')}".strip()
        for attempt in range(1, self.attempts + 1):
            if self.token is None:
                self.login()
            self.stats["calls"] += 1
            try:
                resp = self.session.request(method, url, params=params, json=body, timeout=self.timeout,
                                            headers=self.adapter.headers(self.token, gstin))
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    problem = f"HTTP {resp.status_code}"
                else:
                    return self.adapter.unwrap(_json(resp))
            if attempt == self.attempts:
                raise GstnError(f"{what}: the GSP did not answer properly after {self.attempts} "
                                f"attempts (last: {problem})", http_status=None)
            log.info("%s: %s, retrying (attempt %d of %d)", what, problem, attempt + 1, self.attempts)
            self._sleep_before_retry(attempt, resp.headers.get("Retry-After")
                                     if problem.startswith("HTTP") else None)
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, gstin: str | None = None, params: dict | None = None,
             body: dict | None = None) -> dict:
        """The `data` of a successful answer. Session errors get one fresh login; a save
        already running (IMSSAV0015) is waited for; other errors raise GstnError."""
        relogged = False
        busy = 0
        while True:
            envelope = self._send(method, path, gstin, params, body)
            if str(envelope.get("status_cd")) == "1":
                return envelope.get("data") if "data" in envelope else envelope
            error = envelope.get("error") or {}
            code = str(error.get("error_cd") or envelope.get("error_cd") or "")
            message = error.get("message") or error.get("msg") or envelope.get("message") or "no message"
            if code in SESSION_ERRORS:
                if relogged:
                    raise ReauthenticationNeeded(
                        f"The GSP session is no longer valid ({code}: {message}) and a fresh login "
                        "did not help. Re-authenticate with the GSP, then fetch again.", code)
                relogged = True
                self.login()
                continue
            if code == SAVE_BUSY and busy < self.busy_attempts:
                busy += 1
                self._sleep_before_retry(min(busy, 4))
                continue
            raise GstnError(f"{method} {path} {(params or {}).get('action', '')}: {code} {message}".strip(),
                            code or None, details={**envelope, **error})

    # -- IMS

    def get_counts(self, gstin: str, goods_typ: str = "ALL_OTH") -> dict:
        """GETCNT: e.g. {"all_oth": {"ttl_cnt": 12, "b2b": {"noaction": 11, ...}, ...}}."""
        return self.call("GET", IMS_PATH, gstin, {"action": "GETCNT", "gstin": gstin, "goods_typ": goods_typ})

    def get_ims_raw(self, gstin: str, section_request: str) -> dict:
        """GETINV for one section as the portal answers it (queued answers waited for)."""
        if section_request not in SECTION_REQUEST:
            raise ValueError(f"unknown IMS section '{section_request}' "
                             f"(one of {', '.join(SECTION_REQUEST)})")
        params = {"action": "GETINV", "gstin": gstin, "section": section_request}
        try:
            data = self.call("GET", IMS_PATH, gstin, params)
        except GstnError as exc:
            if exc.error_cd in NO_DOCUMENTS:
                return {}
            if exc.error_cd != QUEUED or not exc.details.get("token"):
                raise
            data = {"token": exc.details["token"], "est": exc.details.get("est")}
        if isinstance(data, dict) and data.get("token") and SECTION_REQUEST[section_request] not in data:
            data = self._wait_for_file(gstin, str(data["token"]), data.get("est"))
        return data or {}

    def get_ims_section(self, gstin: str, section_request: str) -> list[dict]:
        """GETINV for one section (B2B, B2BA, CN, CNA, DN, DNA, ECOM, ECOMA, IMPG) -> flat records."""
        raw = self.get_ims_raw(gstin, section_request)
        key = SECTION_REQUEST[section_request]
        return portal.flatten_ims({key: raw.get(key) or []})

    def _wait_for_file(self, gstin: str, token: str, est) -> dict:
        """A queued answer: ask FILEDET until the file is ready (RTN_24 = not yet), waiting
        `queue_first` s, then growing 1.5x up to `queue_poll` s, for at most `queue_timeout` s."""
        log.info("GETINV for %s queued (token %s, est %s min); waiting", gstin, token, est)
        deadline = time.monotonic() + self.queue_timeout
        wait = self.queue_first
        while True:
            self.stats["queued_waits"] += 1
            time.sleep(wait)
            try:
                data = self.call("GET", IMS_PATH, gstin, {"action": "FILEDET", "gstin": gstin, "token": token})
            except GstnError as exc:
                if exc.error_cd != QUEUED:
                    raise
            else:
                if not (isinstance(data, dict) and set(data) <= {"token", "est"}):
                    return self._file_content(data)
            if time.monotonic() + wait > deadline:
                raise GstnError(f"The queued answer (token {token}) was not ready after "
                                f"{self.queue_timeout:.0f} s", QUEUED)
            wait = min(wait * 1.5, self.queue_poll)

    def _file_content(self, data: dict) -> dict:
        """FILEDET answers the records, or `urls` of JSON files to download and merge."""
        urls = data.get("urls") if isinstance(data, dict) else None
        if not urls:
            return data
        merged: dict = {}
        for entry in urls:
            link = entry.get("ul") if isinstance(entry, dict) else entry
            if link.startswith("/"):
                link = self.config.url + link
            resp = self.session.get(link, timeout=self.timeout,
                                    headers=self.adapter.headers(self.token or "", None))
            if not resp.ok:
                raise GstnError(f"FILEDET download {link}: HTTP {resp.status_code}", http_status=resp.status_code)
            part = _json(resp)
            part = part.get("data", part) if "status_cd" in part else part
            for key, rows in part.items():
                if isinstance(rows, list):
                    merged.setdefault(key, []).extend(rows)
        return merged

    def _put(self, gstin: str, action: str, reqtyp: str, invdata: dict) -> str:
        body = {"rtin": gstin, "reqtyp": reqtyp, "invdata": invdata}
        data = self.call("PUT", IMS_PATH, gstin, {"action": action, "gstin": gstin}, body)
        ref = (data or {}).get("reference_id") or (data or {}).get("int_tran_id")
        if not ref:
            raise GstnError(f"{action}: the portal accepted the request but returned no reference_id")
        return str(ref)

    def save_actions(self, gstin: str, invdata: dict) -> str:
        """SAVE actions (A/R/P) for records grouped by section key -> reference_id."""
        return self._put(gstin, "SAVE", "SAVE", invdata)

    def reset_actions(self, gstin: str, invdata: dict) -> str:
        """RESETIMS: records back to no action -> reference_id."""
        return self._put(gstin, "RESETIMS", "RESET", invdata)

    def request_status(self, gstin: str, reference_id: str) -> dict:
        """REQSTS: {"status_cd": P|PE|ER|IP, "proc_cnt", "err_cnt", "error_report"}."""
        return self.call("GET", IMS_PATH, gstin, {"action": "REQSTS", "gstin": gstin,
                                                  "int_tran_id": reference_id})

    # -- GSTR-2A

    def get_gstr2a(self, gstin: str, period: str, action: str) -> dict:
        """GSTR-2A B2B/B2BA/CDN/CDNA for one return period (MMYYYY), as the portal answers it;
        {} when the portal says there are no documents."""
        params = {"action": action, "gstin": gstin, "ret_period": period}
        try:
            return self.call("GET", GSTR2A_PATH, gstin, params) or {}
        except GstnError as exc:
            if exc.error_cd in NO_DOCUMENTS:
                return {}
            raise


# ---------------------------------------------------------------- ingestion

PORTAL_COLUMNS = ("doc_type", "doc_no", "doc_date", "orig_doc_no", "orig_doc_date", "inv_typ", "pos",
                  "val", "txval", "igst", "cgst", "sgst", "cess", "srcform", "rtnprd", "srcfilstatus",
                  "portal_action", "ispendactblocked", "hash", "itc_red_req", "decl_igst", "decl_cgst",
                  "decl_sgst", "decl_cess", "portal_remarks", "stin_valid")
IDENTITY = ("rtin", "section", "stin", "doc_no_key", "fy", "occurrence")
# What a supplier edit changes (besides the portal's own hash).
EDIT_FIELDS = ("doc_no", "doc_date", "orig_doc_no", "orig_doc_date", "inv_typ", "pos",
               "val", "txval", "igst", "cgst", "sgst", "cess")
MONEY = ("val", "txval", "igst", "cgst", "sgst", "cess", "decl_igst", "decl_cgst", "decl_sgst", "decl_cess")


class CountMismatch(GstnError):
    """The records read do not add up to what GETCNT says: nothing is written."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def incoming_frame(rtin: str, records: list[dict]) -> pl.DataFrame:
    """Flat IMS records -> the store's identity (doc_no_key, fy, occurrence) + portal fields.

    occurrence numbers records sharing (section, stin, doc_no_key, fy) in file order, so a
    document the portal lists twice is kept twice, stably from fetch to fetch.
    """
    keys = ["section", "stin", "doc_no_key", "fy"]
    return (portal.records_frame(records)
            .with_row_index("seq")
            .with_columns(rtin=pl.lit(rtin), doc_no_key=raw_no_expr("doc_no"), fy=fy_expr("doc_date"),
                          portal_action=pl.col("action"), portal_remarks=pl.col("remarks"))
            .with_columns(occurrence=pl.int_range(pl.len()).over(keys).cast(pl.Int32)))


def _section_total(value) -> int | None:
    """GETCNT section entry -> its record count ({"noaction": 11, "accept": 1, ...} or a number)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):
        return sum(int(v) for k, v in value.items() if isinstance(v, (int, float)) and k != "ttl_cnt")
    return None


def check_counts(counts: dict, group: str, records: list[dict]) -> None:
    """Raise CountMismatch unless the records add up to GETCNT's totals (per section too)."""
    body = counts.get(group) or counts.get(group.upper()) or {}
    got: dict[str, int] = {}
    for r in records:
        got[r["section"]] = got.get(r["section"], 0) + 1
    expected_total = body.get("ttl_cnt")
    problems = []
    for key, value in body.items():
        section = portal.SECTION_ALIASES.get(key.lower(), key.lower())
        n = _section_total(value) if key != "ttl_cnt" else None
        if n is not None and section in SECTION_REQUEST.values() and n != got.get(section, 0):
            problems.append(f"{section}: counted {n}, read {got.get(section, 0)}")
    if expected_total is not None and int(expected_total) != len(records):
        problems.insert(0, f"total: counted {int(expected_total)}, read {len(records)}")
    if problems:
        raise CountMismatch(f"The portal's counts (GETCNT {group}) do not match the records read "
                            f"(GETINV): {'; '.join(problems)}. Nothing was written; fetch again.")


def read_ims(client: GstnClient, gstin: str) -> list[dict]:
    """Every IMS section over HTTP, checked against GETCNT (no database connection held)."""
    counts = client.get_counts(gstin, "ALL_OTH")
    records = []
    for request in IMS_SECTIONS_ALL_OTH:
        records += client.get_ims_section(gstin, request)
    check_counts(counts, "all_oth", records)
    return records + read_import_of_goods(client, gstin)


def read_import_of_goods(client: GstnClient, gstin: str) -> list[dict]:
    """IMPG records when the portal counts any (IMP_GDS); none when it does not serve them."""
    try:
        counts = client.get_counts(gstin, "IMP_GDS")
    except ReauthenticationNeeded:
        raise
    except GstnError as exc:
        log.info("IMP_GDS counts not available for %s: %s", gstin, exc)
        return []
    body = counts.get("imp_gds") or {}
    if not body.get("ttl_cnt"):
        return []
    records = client.get_ims_section(gstin, "IMPG")
    check_counts(counts, "imp_gds", records)
    return records


# ---------------------------------------------------------------- the write (one transaction)

def _money(col: str) -> str:
    return f"CAST({col} AS DECIMAL(18,0)) * 0.01 AS {col}"


def _changed_sql() -> str:
    differs = " OR ".join(f"i.{f} IS DISTINCT FROM r.{f}" for f in EDIT_FIELDS)
    return f"(r.record_id IS NOT NULL AND ((i.hash IS NOT NULL AND r.hash IS NOT NULL AND i.hash <> r.hash) OR {differs}))"


def _touched_sql() -> str:
    """Any portal column differs (then the whole row is rewritten; else only last_seen)."""
    return "(" + " OR ".join(f"i.{c} IS DISTINCT FROM r.{c}" for c in PORTAL_COLUMNS) + ")"


def _diff_sql() -> str:
    parts = ", ".join(
        f"CASE WHEN r.record_id IS NOT NULL AND i.{f} IS DISTINCT FROM r.{f} THEN "
        f"'{f} ' || coalesce(CAST(r.{f} AS VARCHAR), '-') || ' -> ' || coalesce(CAST(i.{f} AS VARCHAR), '-') END"
        for f in EDIT_FIELDS)
    return f"concat_ws('; ', {parts})"


def _stage(con, rtin: str, frame: pl.DataFrame) -> None:
    """fetch_in = the incoming records in store types; fetch_match = joined to what we hold."""
    con.register("fetch_frame", frame)
    plain = [c for c in ("seq",) + IDENTITY + PORTAL_COLUMNS if c not in MONEY]
    con.execute(f"CREATE OR REPLACE TEMP TABLE fetch_in AS SELECT {', '.join(plain)}, "
                f"{', '.join(_money(c) for c in MONEY)} FROM fetch_frame")
    con.unregister("fetch_frame")
    on = " AND ".join(f"r.{k} = i.{k}" for k in IDENTITY)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE fetch_match AS
        SELECT i.*, r.record_id, r.removed_at IS NOT NULL AS returned,
               {_changed_sql()} AS changed, {_diff_sql()} AS diff,
               r.user_action AS old_user_action,
               (r.record_id IS NOT NULL AND (r.removed_at IS NOT NULL OR {_touched_sql()})) AS touched,
               (r.user_action IS NOT NULL AND coalesce(r.upload_state, '') <> 'done') AS pending
        FROM fetch_in i LEFT JOIN (SELECT * FROM ims_records WHERE rtin = ?) r ON {on}""", [rtin])


def _log_supplier_edits(con, now: dt.datetime, actor: str) -> None:
    con.execute("""
        INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, ?, rtin, record_id, 'supplier_edit', CASE WHEN pending THEN old_user_action END, NULL,
               'edited by supplier'
               || CASE WHEN pending THEN '; pending action ' || old_user_action || ' reset' ELSE '' END
               || CASE WHEN diff <> '' THEN ' (' || diff || ')' ELSE '' END
        FROM fetch_match WHERE changed ORDER BY seq""", [now, actor])


def _update_known(con, now: dt.datetime) -> None:
    sets = ", ".join(f"{c} = m.{c}" for c in PORTAL_COLUMNS)
    reset = "m.changed AND m.pending"
    con.execute(f"""
        UPDATE ims_records AS r SET {sets}, last_seen = ?, removed_at = NULL,
            changed_at = CASE WHEN m.changed THEN ? ELSE r.changed_at END,
            user_action = CASE WHEN {reset} THEN NULL ELSE r.user_action END,
            user_remarks = CASE WHEN {reset} THEN NULL ELSE r.user_remarks END,
            user_action_by = CASE WHEN {reset} THEN NULL ELSE r.user_action_by END,
            user_action_at = CASE WHEN {reset} THEN NULL ELSE r.user_action_at END,
            upload_state = CASE WHEN {reset} AND r.upload_state IN ('held', 'error') THEN NULL ELSE r.upload_state END,
            upload_error = CASE WHEN {reset} AND r.upload_state IN ('held', 'error') THEN NULL ELSE r.upload_error END
        FROM fetch_match AS m WHERE r.record_id = m.record_id AND m.touched""", [now, now])
    con.execute("UPDATE ims_records AS r SET last_seen = ? FROM fetch_match AS m "
                "WHERE r.record_id = m.record_id AND NOT m.touched", [now])


def _insert_new(con, now: dt.datetime) -> None:
    cols = ", ".join(IDENTITY + PORTAL_COLUMNS)
    con.execute(f"""
        INSERT INTO ims_records ({cols}, first_seen, last_seen)
        SELECT {cols}, ?, ? FROM fetch_match WHERE record_id IS NULL ORDER BY seq""", [now, now])


def _mark_removed(con, rtin: str, now: dt.datetime, actor: str) -> int:
    gone = ("FROM ims_records r WHERE r.rtin = ? AND r.removed_at IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM fetch_match m WHERE m.record_id = r.record_id)")
    con.execute(f"""
        INSERT INTO action_log (logged_at, actor, rtin, record_id, kind, old_value, new_value, note)
        SELECT ?, ?, r.rtin, r.record_id, 'removed', r.portal_action, NULL, 'no longer on the portal'
        {gone}""", [now, actor, rtin])
    return con.execute(f"UPDATE ims_records SET removed_at = ? WHERE record_id IN (SELECT r.record_id {gone})",
                       [now, rtin]).fetchone()[0]


def _match_counts(con) -> dict:
    row = con.execute("""
        SELECT count(*) FILTER (WHERE record_id IS NULL),
               count(*) FILTER (WHERE changed),
               count(*) FILTER (WHERE returned AND NOT changed),
               count(*) FILTER (WHERE record_id IS NOT NULL AND NOT changed AND NOT returned),
               count(*) FILTER (WHERE changed AND pending),
               count(*)
        FROM fetch_match""").fetchone()
    return dict(zip(("new", "changed", "returned", "unchanged", "actions_reset", "total"), row))


def store_ims(con, rtin: str, frame: pl.DataFrame, now: dt.datetime, actor: str) -> dict:
    """Upsert one full IMS snapshot of `rtin` (caller holds the transaction). Set-based."""
    _stage(con, rtin, frame)
    counts = _match_counts(con)
    _log_supplier_edits(con, now, actor)
    counts["removed"] = _mark_removed(con, rtin, now, actor)
    _update_known(con, now)
    _insert_new(con, now)
    con.execute("DROP TABLE fetch_match")
    con.execute("DROP TABLE fetch_in")
    return counts


# ---------------------------------------------------------------- jobs


def start_job(job: str, gstin: str | None, triggered_by: str | None, slot: dt.datetime | None = None) -> int:
    """A `job_runs` row saying the job is running (finished_at NULL)."""
    with connect() as con:
        return con.execute(
            "INSERT INTO job_runs (job, gstin, slot, started_at, triggered_by) VALUES (?, ?, ?, ?, ?) "
            "RETURNING run_id", [job, gstin, slot, utc_now(), triggered_by]).fetchone()[0]


def finish_job(con, run_id: int, ok: bool, error: str | None = None, counts: dict | None = None) -> None:
    con.execute("UPDATE job_runs SET finished_at = ?, ok = ?, error = ?, counts = ? WHERE run_id = ?",
                [utc_now(), ok, error, json.dumps(counts) if counts is not None else None, run_id])


def fail_job(run_id: int, exc: BaseException) -> None:
    """Record the failure (its own short connection: the data transaction was rolled back)."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, ReauthenticationNeeded):
        reason = f"re-authenticate with the GSP: {reason}"
    with connect() as con:
        finish_job(con, run_id, False, reason[:2000])


def _run_job(job: str, gstin: str, triggered_by: str | None, slot, body) -> dict:
    """Run `body(run_id) -> counts` as a recorded job; a failure is recorded, then re-raised."""
    run_id = start_job(job, gstin, triggered_by, slot)
    try:
        counts = body(run_id)
    except BaseException as exc:
        fail_job(run_id, exc)
        raise
    return {**counts, "run_id": run_id}


# ---------------------------------------------------------------- fetch jobs


def fetch_ims(gstin: str, client: GstnClient | None = None, actor: str = "worker", *,
              triggered_by: str | None = None, slot: dt.datetime | None = None) -> dict:
    """Fetch every IMS section of `gstin` and upsert it into `ims_records` (job 'fetch_ims').

    Returns {new, changed, returned, unchanged, removed, actions_reset, total, run_id}.
    Raises GstnError / ReauthenticationNeeded / CountMismatch / PayloadError after recording
    the failed job; then nothing else in the store has changed.
    """
    client = client or GstnClient()

    def body(run_id: int) -> dict:
        records = read_ims(client, gstin)             # HTTP + parsing: no connection held
        frame = incoming_frame(gstin, records)
        with connect() as con, transaction(con):
            counts = store_ims(con, gstin, frame, utc_now(), actor)
            finish_job(con, run_id, True, None, counts)
        return counts

    return _run_job("fetch_ims", gstin, triggered_by or actor, slot, body)


def read_gstr2a(client: GstnClient, gstin: str, periods: list[str]) -> list[dict]:
    """GSTR-2A B2B, B2BA, CDN, CDNA of each period as flat records (rtnprd = the period)."""
    records = []
    for period in periods:
        for action in GSTR2A_ACTIONS:
            data = client.get_gstr2a(gstin, period, action)
            for rec in portal.flatten_gstr2a(data):
                rec["rtnprd"] = period
                records.append(rec)
    return records


def store_gstr2a(con, rtin: str, periods: list[str], records: list[dict], now: dt.datetime) -> dict:
    """Replace the (rtin, ret_period) slices of gstr2a_docs with `records`."""
    frame = portal.records_frame(records).with_columns(rtin=pl.lit(rtin))
    con.register("fetch_2a_frame", frame)
    money = ", ".join(_money(c) for c in ("val", "txval", "igst", "cgst", "sgst", "cess"))
    cols = "rtin, rtnprd, section, stin, doc_type, doc_no, doc_date, orig_doc_no, orig_doc_date, inv_typ, pos, rcm, cfs"
    con.execute("DELETE FROM gstr2a_docs WHERE rtin = ? AND list_contains(?, ret_period)", [rtin, periods])
    con.execute(f"""
        INSERT INTO gstr2a_docs (rtin, ret_period, section, stin, doc_type, doc_no, doc_date, orig_doc_no,
            orig_doc_date, inv_typ, pos, rcm, cfs, val, txval, igst, cgst, sgst, cess, fetched_at)
        SELECT {cols}, {money}, ? FROM fetch_2a_frame""", [now])
    con.unregister("fetch_2a_frame")
    per_period = {p: 0 for p in periods}
    for rec in records:
        per_period[rec["rtnprd"]] += 1
    return {"total": len(records), "periods": per_period}


def fetch_gstr2a(gstin: str, periods: list[str], client: GstnClient | None = None, actor: str = "worker", *,
                 triggered_by: str | None = None, slot: dt.datetime | None = None) -> dict:
    """Fetch GSTR-2A (B2B, B2BA, CDN, CDNA) for `periods` (MMYYYY) and replace them in
    gstr2a_docs in one transaction (job 'fetch_2a')."""
    client = client or GstnClient()
    periods = sorted(set(periods))

    def body(run_id: int) -> dict:
        records = read_gstr2a(client, gstin, periods)
        with connect() as con, transaction(con):
            counts = store_gstr2a(con, gstin, periods, records, utc_now())
            finish_job(con, run_id, True, None, counts)
        return counts

    return _run_job("fetch_2a", gstin, triggered_by or actor, slot, body)


def recent_periods(today: dt.date | None = None, months: int = 3) -> list[str]:
    """The current month and the ones before it, as MMYYYY."""
    today = today or dt.date.today()
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{m:02d}{y}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def ims_periods(gstin: str) -> list[str]:
    """Return periods (rtnprd) of the IMS records currently on the portal for `gstin`."""
    with connect() as con:
        rows = con.execute("SELECT DISTINCT rtnprd FROM ims_records WHERE rtin = ? AND removed_at IS NULL "
                           "AND rtnprd IS NOT NULL ORDER BY 1", [gstin]).fetchall()
    return [r[0] for r in rows]


def fetch_business(gstin: str, client: GstnClient | None = None, actor: str = "worker", *,
                   triggered_by: str | None = None, slot: dt.datetime | None = None) -> dict:
    """IMS, then GSTR-2A for the periods the IMS records belong to (or the last 3 months)."""
    client = client or GstnClient()
    ims = fetch_ims(gstin, client, actor, triggered_by=triggered_by, slot=slot)
    periods = ims_periods(gstin) or recent_periods()
    gstr2a = fetch_gstr2a(gstin, periods, client, actor, triggered_by=triggered_by, slot=slot)
    return {"ims": ims, "gstr2a": gstr2a}


class UnknownBusiness(ValueError):
    """A GSTIN that is not configured in `businesses`."""


def businesses_to_fetch(gstins: list[str] | None) -> list[str]:
    """The GSTINs asked for (each must be configured), or every enabled business."""
    with connect() as con:
        rows = con.execute("SELECT gstin, enabled FROM businesses ORDER BY gstin").fetchall()
    known = {g: enabled for g, enabled in rows}
    if gstins is None:
        return [g for g, enabled in known.items() if enabled]
    wanted = [g.strip().upper() for g in gstins]
    missing = [g for g in wanted if g not in known]
    if missing:
        raise UnknownBusiness(
            f"GSTIN {', '.join(missing)} is not configured. Add it under Settings (Business to "
            f"Auto-generate IMS) first; configured: {', '.join(known) or 'none'}.")
    return list(dict.fromkeys(wanted))


def fetch_businesses(gstins: list[str] | None = None, client: GstnClient | None = None,
                     actor: str = "worker", *, triggered_by: str | None = "cli",
                     slot: dt.datetime | None = None) -> dict:
    """Fetch each business (all enabled ones when `gstins` is None).

    Returns {gstin: {"ok": True, "ims": counts, "gstr2a": counts}} or
    {gstin: {"ok": False, "error": reason, "reauthenticate": bool}}; one business failing
    does not stop the others. Raises UnknownBusiness before fetching anything when a
    GSTIN asked for is not configured.
    """
    targets = businesses_to_fetch(gstins)
    client = client or GstnClient()
    results = {}
    for gstin in targets:
        try:
            results[gstin] = {"ok": True, **fetch_business(gstin, client, actor,
                                                          triggered_by=triggered_by, slot=slot)}
        except Exception as exc:  # noqa: BLE001 - one business failing must not stop the others
            known = isinstance(exc, (GstnError, portal.PayloadError, DatabaseBusy))
            results[gstin] = {"ok": False, "error": str(exc) if known else f"{type(exc).__name__}: {exc}",
                              "reauthenticate": isinstance(exc, ReauthenticationNeeded)}
    return results
