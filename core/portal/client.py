"""The GSTN-shaped API client: IMS and GSTR-2A calls over HTTP(S)/JSON (docs/portal-api.md).

Every call has a timeout; HTTP 429/5xx and connection errors are retried with exponential
backoff and jitter. Each call carries its GSTIN's own session token when that GSTIN is
connected with an OTP (`core.portal.sessions`), else the shared login's; an expired session
(AUTH4033/AUTH4038) gets one refresh (own session) or one fresh login (shared), then
`ReauthenticationNeeded` (`NeedsOtp` for an own session); queued answers (`{"token", "est"}`, RTN_24) are waited for through
FILEDET; a save already running (IMSSAV0015) is waited for and retried. Where the GSP is and
how to log in: `core.portal.gsp`.
"""
from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator

import requests

from core.documents import SECTION_REQUEST
from core.portal.gsp import GspAdapter, GspConfig, GstnError, ReauthenticationNeeded, envelope_of
from core.portal.sessions import GstinSessions, Held

log = logging.getLogger(__name__)

IMS_PATH = "/taxpayerapi/v1.0/returns/ims"
GSTR2A_PATH = "/taxpayerapi/v1.0/returns/gstr2a"
SESSION_ERRORS = {"AUTH4033", "AUTH4038"}
NO_DOCUMENTS = {"RET11416", "RET13508"}
QUEUED = "RTN_24"
SAVE_BUSY = "IMSSAV0015"
# GETINV request name -> the answer's section key, import of goods (goods_typ IMP_GDS) included
SECTION_KEYS = {**SECTION_REQUEST, "IMPG": "impg", "IMPGA": "impga", "IMPGSEZ": "impgsez",
                "IMPGSEZA": "impgseza"}
# A GSP that sends its answer a byte at a time never trips the per-read timeout: each call
# has an overall deadline, and all the calls about one GSTIN together another one, so one slow
# GSTIN cannot hold up the others; an answer larger than the cap is refused while it arrives
# (a 400 MB answer took the worker to 5.3 GB). docs/reliability.md, "A slow or flooding GSP".
CALL_DEADLINE_S = float(os.environ.get("IMS_GSP_CALL_DEADLINE", "180"))
GSTIN_DEADLINE_S = float(os.environ.get("IMS_GSP_GSTIN_DEADLINE", "1800"))
MAX_ANSWER_BYTES = int(float(os.environ.get("IMS_GSP_MAX_ANSWER_MB", "100")) * 1024 * 1024)
READ_PIECE = 1 << 16


def merged_answers(answers: Iterator[dict]) -> dict:
    """The answers of a file-based answer as one: the first answer, with every list of each
    later file (records, or supplier groups) added to its key's list."""
    merged: dict = {}
    for n, answer in enumerate(answers):
        if n == 0:
            merged = answer
            continue
        for key, rows in answer.items():
            if isinstance(rows, list):
                merged.setdefault(key, []).extend(rows)
    return merged


class AnswerTooSlow(GstnError):
    """The GSP did not finish an answer within the call's or the GSTIN's deadline."""


class _ReadFromBytes:
    """What a call's `read_bytes` made of a successful answer's bytes (GstnClient.call)."""

    def __init__(self, value):
        self.value = value


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
                 busy_attempts: int = 10, sessions: GstinSessions | None = None,
                 call_deadline: float | None = None, gstin_deadline: float | None = None,
                 max_answer_bytes: int | None = None):
        self.config = config or (adapter.config if adapter else GspConfig.load())
        self.adapter = adapter or GspAdapter(self.config)
        self.timeout, self.attempts = timeout, attempts
        self.backoff, self.backoff_cap = backoff, backoff_cap
        self.queue_first, self.queue_poll = queue_first, queue_poll
        self.queue_timeout = queue_timeout
        self.busy_attempts = busy_attempts
        self.call_deadline = CALL_DEADLINE_S if call_deadline is None else call_deadline
        self.gstin_deadline = GSTIN_DEADLINE_S if gstin_deadline is None else gstin_deadline
        self.max_answer_bytes = MAX_ANSWER_BYTES if max_answer_bytes is None else max_answer_bytes
        self.first_call: dict[str, float] = {}     # GSTIN -> when its first call began
        self.session = requests.Session()
        self.token: str | None = None
        self.sessions = sessions or GstinSessions(self.adapter)
        self.used: Held | None = None   # the own session the last call carried, if any
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
                    raise GstnError(f"Login: the GSP at {self.config.url} could not be reached "
                                    f"after {self.attempts} attempts ({type(exc).__name__})"
                                    ) from exc
                self._sleep_before_retry(attempt)

    def credentials(self, gstin: str | None) -> tuple[str, str | None, Held | None]:
        """(token, username, own session) for a call about `gstin`: its own session when it
        has one (NeedsOtp when that cannot be used), else the shared login."""
        held = self.sessions.token_for(gstin) if gstin else None
        if held is not None:
            return held.token, held.username, held
        if self.token is None:
            self.login()
        return self.token, None, None

    def _sleep_before_retry(self, attempt: int, retry_after: str | None = None) -> None:
        delay = min(self.backoff * (2 ** (attempt - 1)), self.backoff_cap)
        if retry_after and retry_after.strip().isdigit():
            delay = min(max(delay, float(retry_after)), self.backoff_cap)
        self.stats["retries"] += 1
        time.sleep(delay * (0.5 + random.random()))

    def _deadline(self, gstin: str | None, what: str) -> float:
        """When the call starting now must be over: its own deadline, or the GSTIN's, whichever
        comes first (AnswerTooSlow when the GSTIN's time is already used up)."""
        now = time.monotonic()
        ends = now + self.call_deadline
        if gstin:
            started = self.first_call.setdefault(gstin, now)
            ends = min(ends, started + self.gstin_deadline)
            if ends <= now:
                raise AnswerTooSlow(
                    f"{what}: {gstin} was skipped: the GSP took more than "
                    f"{self.gstin_deadline:,.0f} s for this GSTIN's calls in all; the other "
                    "GSTINs are fetched as usual and this one is tried again at its next run.")
        return ends

    def _answer(self, resp: requests.Response, what: str, ends: float) -> bytes:
        """The answer's bytes, read as they arrive: AnswerTooSlow past `ends`, GstnError past
        the size cap (the connection is dropped in both cases)."""
        cap = self.max_answer_bytes
        declared = resp.headers.get("Content-Length", "")
        pieces, size = [], 0
        try:
            if declared.isdigit() and int(declared) > cap:
                raise self._too_big(what, int(declared))
            while True:
                if time.monotonic() > ends:
                    raise AnswerTooSlow(
                        f"{what}: the GSP did not finish its answer within "
                        f"{self.call_deadline:,.0f} s ({size:,} bytes came); the call was "
                        "given up so that the other GSTINs are fetched. Try again later; if it "
                        "keeps happening, ask the GSP.")
                piece = resp.raw.read1(READ_PIECE)
                if not piece:
                    return b"".join(pieces)
                size += len(piece)
                if size > cap:
                    raise self._too_big(what, size)
                pieces.append(piece)
        except BaseException:
            resp.close()
            raise

    def _too_big(self, what: str, size: int) -> GstnError:
        return GstnError(f"{what}: the GSP's answer is larger than "
                         f"{self.max_answer_bytes / 1048576:,.0f} MB (at least "
                         f"{size / 1048576:,.0f} MB); it was refused unread so that the worker's "
                         "memory holds. Raise IMS_GSP_MAX_ANSWER_MB if such answers are real.")

    def _send(self, method: str, path: str, gstin: str | None, params: dict | None,
              body: dict | None, read_bytes: Callable[[bytes], object] | None = None
              ) -> dict | _ReadFromBytes:
        """One HTTP exchange with retries for 429/5xx/connection errors; returns the envelope,
        or what `read_bytes` made of the answer's bytes (call). Each exchange has an overall
        deadline and a size cap (AnswerTooSlow / GstnError, not retried)."""
        url = self.config.url + path
        what = f"{method} {path} {(params or {}).get('action', '')}".strip()
        for attempt in range(1, self.attempts + 1):
            token, username, self.used = self.credentials(gstin)
            self.stats["calls"] += 1
            ends = self._deadline(gstin, what)
            try:
                resp = self.session.request(method, url, params=params, json=body,
                                            timeout=max(min(self.timeout,
                                                            ends - time.monotonic()), 0.1),
                                            headers=self.adapter.headers(token, gstin, username),
                                            stream=True)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    problem = f"HTTP {resp.status_code}"
                    resp.close()
                else:
                    try:
                        content = self._answer(resp, what, ends)
                    except (requests.ConnectionError, requests.Timeout) as exc:
                        problem = f"{type(exc).__name__}"
                    else:
                        read = read_bytes(content) if read_bytes and self._plain_envelope \
                            else None
                        if read is not None:
                            return _ReadFromBytes(read)
                        return self.adapter.unwrap(envelope_of(resp.status_code, content))
            if attempt == self.attempts:
                raise GstnError(f"{what}: the GSP did not answer properly after {self.attempts} "
                                f"attempts (last: {problem})", http_status=None)
            log.info("%s: %s, retrying (attempt %d of %d)", what, problem, attempt + 1,
                     self.attempts)
            self._sleep_before_retry(attempt, resp.headers.get("Retry-After")
                                     if problem.startswith("HTTP") else None)
        raise AssertionError("unreachable")

    @property
    def _plain_envelope(self) -> bool:
        """The GSP's answer body is GSTN's envelope as is (the adapter does not unwrap it)."""
        return getattr(self.adapter.unwrap, "__func__", None) is GspAdapter.unwrap

    def call(self, method: str, path: str, gstin: str | None = None, params: dict | None = None,
             body: dict | None = None, read_bytes: Callable[[bytes], object] | None = None):
        """The `data` of a successful answer. Session errors get one fresh login; a save
        already running (IMSSAV0015) is waited for; other errors raise GstnError.

        `read_bytes(answer bytes)`: tried first on each answer when the adapter leaves the
        envelope as it comes: what it returns (not None) is the call's result, for a
        successful plain envelope only; None, and the answer is decoded and handled as above
        (errors, fresh login, waits), as are answers through an adapter that unwraps."""
        relogged = False
        busy = 0
        while True:
            envelope = self._send(method, path, gstin, params, body, read_bytes)
            if isinstance(envelope, _ReadFromBytes):
                return envelope.value
            if str(envelope.get("status_cd")) == "1":
                return envelope.get("data") if "data" in envelope else envelope
            error = envelope.get("error") or {}
            code = str(error.get("error_cd") or envelope.get("error_cd") or "")
            message = (error.get("message") or error.get("msg") or envelope.get("message")
                       or "no message")
            if code in SESSION_ERRORS and self.used is not None:
                if relogged:
                    raise self.sessions.give_up(gstin, code)
                relogged = True
                self.sessions.recover(gstin, self.used, code)
                continue
            if code in SESSION_ERRORS:
                if relogged:
                    raise ReauthenticationNeeded(
                        f"Re-authenticate with the GSP, then fetch again: the session is no "
                        f"longer valid ({code}: {message}) and a fresh login did not help.",
                        code)
                relogged = True
                self.login()
                continue
            if code == SAVE_BUSY and busy < self.busy_attempts:
                busy += 1
                self._sleep_before_retry(min(busy, 4))
                continue
            action = (params or {}).get("action", "")
            raise GstnError(f"{method} {path} {action}: {code} {message}".strip(),
                            code or None, details={**envelope, **error})

    # -- IMS

    def get_counts(self, gstin: str, goods_typ: str = "ALL_OTH") -> dict:
        """GETCNT: e.g. {"all_oth": {"ttl_cnt": 12, "b2b": {"noaction": 11, ...}, ...}}."""
        return self.call("GET", IMS_PATH, gstin,
                         {"action": "GETCNT", "gstin": gstin, "goods_typ": goods_typ})

    def get_ims_raw(self, gstin: str, section_request: str) -> dict:
        """GETINV for one section as the portal answers it (queued answers waited for; the
        files of a file-based answer merged)."""
        return merged_answers(self.ims_answers(gstin, section_request))

    def ims_answers(self, gstin: str, section_request: str) -> Iterator[dict]:
        """GETINV for one section, answer by answer: the answer itself, or (queued, then
        FILEDET with `urls`) each file in turn, downloaded and decoded only when the one before
        is done with: a caller that reads each before taking the next never holds them all."""
        if section_request not in SECTION_KEYS:
            raise ValueError(f"unknown IMS section '{section_request}' "
                             f"(one of {', '.join(SECTION_KEYS)})")
        yield from self._answers(IMS_PATH, {"action": "GETINV", "gstin": gstin,
                                            "section": section_request},
                                 SECTION_KEYS[section_request])

    def _answers(self, path: str, params: dict, key: str) -> Iterator[dict]:
        """One call's answer, answer by answer (ims_answers): the answer itself ({} when the
        portal has no documents), or for a token (`{"token", "est"}`, or RTN_24 with one) the
        FILEDET answer on the same path: the records, or each file of its `urls` in turn.
        `key`: the answer's section key (an answer holding it is no token)."""
        gstin = params["gstin"]
        try:
            data = self.call("GET", path, gstin, params)
        except GstnError as exc:
            if exc.error_cd in NO_DOCUMENTS:
                yield {}
                return
            if exc.error_cd != QUEUED or not exc.details.get("token"):
                raise
            data = {"token": exc.details["token"], "est": exc.details.get("est")}
        queued = isinstance(data, dict) and data.get("token")
        if queued and key not in data:
            where = {k: v for k, v in params.items() if k not in ("action", "section")}
            data = self._wait_for_file(path, where, str(data["token"]), data.get("est"))
        urls = data.get("urls") if isinstance(data, dict) else None
        if urls:
            yield from self._files(urls, gstin)
        else:
            yield data or {}

    def get_ims_section(self, gstin: str, section_request: str) -> dict:
        """GETINV for one section (B2B, B2BA, CN, CNA, DN, DNA, ECOM, ECOMA, IMPG, IMPGA,
        IMPGSEZ, IMPGSEZA) -> that section's list only, as the portal gives it
        (`{"b2b": [...]}`); core.portal.payload.flatten_ims reads it."""
        raw = self.get_ims_raw(gstin, section_request)
        key = SECTION_KEYS[section_request]
        return {key: raw.get(key) or []}

    def ims_section_parts(self, gstin: str, section_request: str) -> Iterator[dict]:
        """get_ims_section answer by answer (ims_answers): `{"b2b": [...]}` per answer or
        file, in the portal's order."""
        key = SECTION_KEYS[section_request]
        for answer in self.ims_answers(gstin, section_request):
            yield {key: answer.get(key) or []}
            del answer   # not held while the next file comes

    def _wait_for_file(self, path: str, where: dict, token: str, est) -> dict:
        """A queued answer: ask FILEDET (on `path`, with `where`: gstin, and ret_period for
        GSTR-2A) until the file is ready (RTN_24 = not yet), waiting `queue_first` s, then
        growing 1.5x up to `queue_poll` s, for at most `queue_timeout` s. Returns FILEDET's
        data: the records, or `urls` of files (_answers reads them)."""
        gstin = where["gstin"]
        log.info("%s for %s queued (token %s, est %s min); waiting", path.rsplit("/", 1)[-1],
                 gstin, token, est)
        deadline = time.monotonic() + self.queue_timeout
        wait = self.queue_first
        while True:
            self.stats["queued_waits"] += 1
            time.sleep(wait)
            try:
                data = self.call("GET", path, gstin,
                                 {"action": "FILEDET", **where, "token": token})
            except GstnError as exc:
                if exc.error_cd != QUEUED:
                    raise
            else:
                if not (isinstance(data, dict) and set(data) <= {"token", "est"}):
                    return data
            if time.monotonic() + wait > deadline:
                raise GstnError(f"The queued answer (token {token}) was not ready after "
                                f"{self.queue_timeout:.0f} s", QUEUED)
            wait = min(wait * 1.5, self.queue_poll)

    def _files(self, urls: list, gstin: str | None = None) -> Iterator[dict]:
        """The JSON files FILEDET names, one at a time, each as its `data` (or the whole file
        when it has no envelope)."""
        for entry in urls:
            link = entry.get("ul") if isinstance(entry, dict) else entry
            if link.startswith("/"):
                link = self.config.url + link
            token, username, _ = self.credentials(gstin)
            ends = self._deadline(gstin, "FILEDET download")
            resp = self.session.get(link, timeout=max(min(self.timeout,
                                                          ends - time.monotonic()), 0.1),
                                    headers=self.adapter.headers(token, None, username),
                                    stream=True)
            if not resp.ok:
                resp.close()
                raise GstnError(f"FILEDET download {link}: HTTP {resp.status_code}",
                                http_status=resp.status_code)
            part = envelope_of(resp.status_code, self._answer(resp, "FILEDET download", ends))
            yield part.get("data", part) if "status_cd" in part else part
            del part

    def _put(self, gstin: str, action: str, reqtyp: str, invdata: dict) -> str:
        body = {"rtin": gstin, "reqtyp": reqtyp, "invdata": invdata}
        data = self.call("PUT", IMS_PATH, gstin, {"action": action, "gstin": gstin}, body)
        ref = (data or {}).get("reference_id") or (data or {}).get("int_tran_id")
        if not ref:
            raise GstnError(f"{action}: the portal accepted the request but returned no "
                            "reference_id")
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

    def get_supplier_returns(self, gstin: str, stin: str, fy: str) -> dict:
        """A supplier's filing status for a financial year '2025-26', asked with business
        `gstin`'s session: {"ctin", "sts", "dtcancel"?, "EFiledlist": [{"rtntype", "ret_prd",
        "status"}]} (the adapter's `supplier_returns_path`)."""
        return self.call("GET", self.adapter.supplier_returns_path, gstin,
                         self.adapter.supplier_returns_params(gstin, stin, fy)) or {}

    def get_gstr2a(self, gstin: str, period: str, action: str) -> dict:
        """GSTR-2A B2B/B2BA/CDN/CDNA for one return period (MMYYYY), as the portal answers it
        (a file-based answer's files merged); {} when the portal says there are no documents."""
        return merged_answers(self.gstr2a_answers(gstin, period, action))

    def gstr2a_answers(self, gstin: str, period: str, action: str) -> Iterator[dict]:
        """get_gstr2a answer by answer: a large answer comes as a token, then FILEDET's
        `urls` of files (as IMS GETINV's do), each downloaded and decoded only when the one
        before is done with."""
        params = {"action": action, "gstin": gstin, "ret_period": period}
        for answer in self._answers(GSTR2A_PATH, params, action.lower()):
            yield answer or {}
            del answer   # not held while the next file comes


def try_login(url: str | None = None, timeout: float = 10.0) -> tuple[bool, str]:
    """Log in to the GSP (at `url`, or the configured one) with the configured credentials
    -> (worked, what happened in words). Settings' "Test connection"."""
    config = GspConfig.load(url=url)
    client = GstnClient(config, timeout=timeout, attempts=2, backoff=0.2)
    try:
        client.login()
    except GstnError as exc:
        return False, f"Login to the GSP at {config.url} failed: {exc}"
    except requests.RequestException as exc:
        return False, f"Login to the GSP at {config.url} failed: {type(exc).__name__}: {exc}"
    return True, (f"Logged in to the GSP at {config.url} as user '{config.username}' "
                  f"(credentials from {config.credentials_source}).")
