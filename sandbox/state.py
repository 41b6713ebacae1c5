"""The sandbox portal's state and rules: records per business, actions saved through
SAVE/RESET (checked like the portal checks them), supplier edits, new days, queued files.

Thread-safe (one lock); answers are pre-serialised JSON bytes cached until the data changes.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from sandbox import fields, rules, synth
from sandbox.filings import Filings, write_clock
from sandbox.rules import ERRORS
from sandbox.supplier_returns import group_status, supplier_track

REQUEST_SECTION = {"B2B": "b2b", "B2BA": "b2ba", "CN": "b2bcn", "CNA": "b2bcna", "DN": "b2bdn",
                   "DNA": "b2bdna", "ECOM": "ecom", "ECOMA": "ecoma", "IMPG": "impg",
                   "IMPGA": "impga", "IMPGSEZ": "impgsez", "IMPGSEZA": "impgseza"}
KEY_ALIASES = {"cn": "b2bcn", "cna": "b2bcna", "dn": "b2bdn", "dna": "b2bdna", "imp_gds": "impg"}
ALL_OTH = fields.OTHER_SECTIONS
FILES_PATH = "/ims-files"   # GET /ims-files/<token>/<n>: file n of a file-based FILEDET answer
COUNT_NAMES = {"N": "noaction", "A": "accept", "R": "reject", "P": "pending"}


def _item_of(amounts: dict) -> list:
    """Rupee amounts {txval, iamt, camt, samt, cess} -> one item in paise."""
    def paise(name: str) -> int:
        return round(float(amounts.get(name) or 0) * 100)
    return [0, paise("txval"), paise("iamt"), paise("camt"), paise("samt"), paise("cess")]


class PortalError(Exception):
    """A business error the API answers with the error envelope."""

    def __init__(self, code: str, message: str, http_status: int = 200):
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


def section_key(name: str) -> str:
    """B2B / CN / b2bcn / cn -> the GETINV key; PortalError when unknown."""
    text = str(name or "").strip()
    key = REQUEST_SECTION.get(text.upper()) or KEY_ALIASES.get(text.lower()) or text.lower()
    if key not in fields.SECTIONS:
        raise PortalError("RET400", f"Unknown IMS section '{name}'", 400)
    return key


@dataclass
class SaveRequest:
    ref: str
    gstin: str
    reqtyp: str
    invdata: dict
    submitted: float
    polls: int = 0
    result: dict | None = None


@dataclass
class Config:
    queue_threshold: int = 20000
    queue_delay: float = 0.5
    save_seconds: float = 5.0
    token_ttl: float = 6 * 3600
    file_records: int = 0      # > 0: FILEDET answers `urls` of files of at most this many records


@dataclass
class Portal:
    seed: int = 1
    scale: int = 3000
    start: dt.date = synth.START_DATE
    config: Config = field(default_factory=Config)
    gstins: list[str] | None = None  # serve only these demo GSTINs (None: all)
    clock_file: str | None = None    # where the day is written for the app (sandbox.filings)

    def __post_init__(self):
        self.lock = threading.RLock()
        self.reset()

    # ------------------------------------------------------------ data

    def reset(self) -> None:
        with self.lock:
            self.data = synth.build_portal(self.seed, self.scale, self.start, self.gstins)
            self.day = self.start
            self.index = {g: self._index(b) for g, b in self.data.items()}
            self.revisions: dict[tuple, int] = {}
            self.cache: dict[tuple, bytes | list[bytes] | tuple] = {}
            self.saves: dict[str, SaveRequest] = {}
            self.files: dict[str, tuple[float, str, bytes | list[bytes]]] = {}
            self.filings = Filings()
            self.supplier_3b: dict[tuple[str, str], bool] = {}   # (stin, period) -> filed
            write_clock(self.clock_file, self.day)

    @staticmethod
    def _index(biz: synth.BusinessData) -> dict[tuple, int]:
        return {ik: i for k, recs in biz.records.items() for i, r in enumerate(recs)
                for ik in fields.index_keys(k, r)}

    def business(self, gstin: str) -> synth.BusinessData:
        biz = self.data.get(str(gstin or "").strip().upper())
        if biz is None:
            raise PortalError("RET11401", f"GSTIN '{gstin}' is not registered with this sandbox "
                                          f"(demo GSTINs: {', '.join(self.data)})")
        return biz

    def _changed(self, gstin: str) -> None:
        for k in [k for k in self.cache if k[0] == gstin]:
            del self.cache[k]

    def find(self, gstin: str, key: str, stin: str, doc_no: str, rtnprd: str | None = None):
        """(record, position) by identity; rtnprd optional (then the first match)."""
        biz = self.business(gstin)
        want = (key, fields.identity_of(key, {"stin": stin}), str(doc_no or "").strip().upper())
        if rtnprd:
            pos = self.index[biz.gstin].get((*want, rtnprd))
        else:
            pos = next((p for k, p in self.index[biz.gstin].items() if k[:3] == want), None)
        return (None, None) if pos is None else (biz.records[key][pos], pos)

    def record_view(self, gstin: str, section: str, stin: str, doc_no: str,
                    rtnprd: str | None = None) -> dict:
        """One record as served, what the portal holds as saved for it, and (amendments) the
        amounts of the original it replaced (/_control/record)."""
        key = section_key(section)
        with self.lock:
            rec, pos = self.find(gstin, key, stin, doc_no, rtnprd)
            if rec is None:
                raise PortalError("NOT_FOUND", f"No {key} record {doc_no} of {stin} for {gstin}",
                                  404)
            original = self.business(gstin).originals.get((key, pos))
            return {"record": dict(rec), "saved": rules.saved_state(rec),
                    "original": dict(original) if original else None,
                    "question_applies": rec.get("isItcRedReqBlocked") == "N"}

    # ------------------------------------------------------------ reads

    def section_answer(self, gstin: str, key: str) -> tuple[int, bytes]:
        """(record count, the GETINV success envelope as bytes), cached until a change."""
        with self.lock:  # look the business up inside the lock: a reset may be replacing it
            biz = self.business(gstin)
            cached = self.cache.get((biz.gstin, "inv", key))
            served = self.filings.served(biz.gstin, key, biz.records[key])
            if cached is None:
                body = json.dumps(served, separators=(",", ":")).encode()
                cached = b'{"status_cd":"1","data":{"' + key.encode() + b'":' + body + b"}}"
                self.cache[(biz.gstin, "inv", key)] = cached
            return len(served), cached

    def warm(self) -> None:
        """Serialise every section ahead of the first GETINV (run in a background thread)."""
        for gstin in list(self.data):
            for key in fields.SECTIONS:
                self.section_answer(gstin, key)

    def counts(self, gstin: str, goods_typ: str = "ALL_OTH") -> dict:
        group = (goods_typ or "ALL_OTH").strip().upper()
        keys = {"ALL_OTH": ALL_OTH, "IMP_GDS": fields.IMPORT_SECTIONS, "INV_SUPP_ISD": ()}.get(group)
        if keys is None:
            raise PortalError("RET400",
                              f"Unknown goods_typ '{goods_typ}' (ALL_OTH, IMP_GDS, INV_SUPP_ISD)",
                              400)
        with self.lock:
            biz = self.business(gstin)
            body: dict = {"ttl_cnt": 0}
            for key in keys:
                tally = dict.fromkeys(COUNT_NAMES.values(), 0)
                served = self.filings.served(biz.gstin, key, biz.records[key])
                for rec in served:
                    tally[COUNT_NAMES[rec["action"]]] += 1
                body[key] = tally
                body["ttl_cnt"] += len(served)
        return {group.lower(): body}

    def queue_file(self, gstin: str, key: str) -> str:
        """A token for the section's records as they are now (FILEDET serves them: the records
        themselves, or with `file_records` set and more records than that, `urls` of files)."""
        _, answer = self.section_answer(gstin, key)
        per_file = self.config.file_records
        if per_file > 0:
            with self.lock:   # the files are cached as the answer is, until a change
                biz = self.business(gstin)
                files = self.cache.get((biz.gstin, "files", key, per_file))
                if files is None:
                    served = self.filings.served(biz.gstin, key, biz.records[key])
                    files = [json.dumps({key: served[at:at + per_file]},
                                        separators=(",", ":")).encode()
                             for at in range(0, len(served), per_file)]
                    self.cache[(biz.gstin, "files", key, per_file)] = files
            if len(files) > 1:
                answer = files
        return self._queue(gstin, answer)

    def _queue(self, gstin: str, answer: bytes | list[bytes]) -> str:
        """A token FILEDET serves `answer` for (the answer, or its files) after queue_delay."""
        token = uuid.uuid4().hex
        with self.lock:
            self.files[token] = (time.monotonic() + self.config.queue_delay, gstin, answer)
        return token

    def file_answer(self, gstin: str, token: str) -> bytes:
        with self.lock:
            entry = self.files.get(str(token))
        if entry is None or entry[1] != self.business(gstin).gstin:
            raise PortalError("RET11417", f"No file for token '{token}'")
        if time.monotonic() < entry[0]:
            raise PortalError("RTN_24", "File generation in progress; try again after some time")
        if isinstance(entry[2], list):   # a file-based answer: where to download each file
            urls = [{"ul": f"{FILES_PATH}/{token}/{n}", "ic": n}
                    for n in range(1, len(entry[2]) + 1)]
            return json.dumps({"status_cd": "1", "data": {"urls": urls, "fc": len(urls)}}).encode()
        return entry[2]

    def file_part(self, token: str, number: str) -> bytes:
        """File `number` (1-based) of a file-based FILEDET answer: `{"<key>": [records]}`."""
        with self.lock:
            entry = self.files.get(str(token))
        parts = entry[2] if entry and isinstance(entry[2], list) else []
        if not number.isdigit() or not 1 <= int(number) <= len(parts):
            raise PortalError("NOT_FOUND", f"No file {number} for token '{token}'", 404)
        return parts[int(number) - 1]

    def gstr2a_answer(self, gstin: str, period: str, action: str) -> bytes:
        """One GSTR-2A section of one period: the answer, or with more documents than
        queue_threshold a token (`{"token", "est"}`; FILEDET serves the answer, or with
        file_records set and more documents than that, `urls` of files), as GETINV does."""
        part = {"B2B": "b2b", "B2BA": "b2ba", "CDN": "cdn", "CDNA": "cdna"}.get(action.upper())
        if not (len(period or "") == 6 and period.isdigit()):
            raise PortalError("RET400", f"ret_period '{period}' is not MMYYYY", 400)
        shape = (self.config.queue_threshold, self.config.file_records)   # may change
        with self.lock:
            biz = self.business(gstin)
            cached = self.cache.get((biz.gstin, "2a", period, part, shape))
            if cached is None and part:
                doc = synth.gstr2a_document(
                    biz, period, lambda stin, prd: group_status(self.seed, stin, prd,
                                                                self.supplier_3b))
                for p, groups in doc.items():
                    self.cache[(biz.gstin, "2a", period, p, shape)] = self._gstr2a_entry(
                        p, groups, *shape)
                cached = self.cache[(biz.gstin, "2a", period, part, shape)]
        if not cached:
            raise PortalError("RET13508", f"No documents found for {action} in {period}")
        count, answer = cached
        if count > shape[0]:
            return json.dumps({"status_cd": "1", "data": {
                "token": self._queue(biz.gstin, answer), "est": 1}}).encode()
        return answer

    @staticmethod
    def _gstr2a_entry(key: str, groups: list[dict], threshold: int,
                      per_file: int) -> tuple[int, bytes | list[bytes]] | tuple:
        """(documents, the answer) of one section, () when it has none. Above `threshold`
        and `per_file` documents the answer is files of at most `per_file` documents each (a
        supplier group split across files where it must: each part with its heads)."""
        if not groups:
            return ()
        docs_key = "nt" if key in ("cdn", "cdna") else "inv"
        count = sum(len(g[docs_key]) for g in groups)
        if count <= threshold or not 0 < per_file < count:
            return count, json.dumps({"status_cd": "1", "data": {key: groups}}).encode()
        files, chunk, room = [], [], per_file
        for group in groups:
            docs = group[docs_key]
            while docs:
                taken, docs = docs[:room], docs[room:]
                chunk.append({**group, docs_key: taken})
                room -= len(taken)
                if room == 0:
                    files.append(chunk)
                    chunk, room = [], per_file
        if chunk:
            files.append(chunk)
        return count, [json.dumps({key: c}, separators=(",", ":")).encode() for c in files]

    def warm_gstr2a(self, gstin: str) -> int:
        """Build and encode the GSTR-2A answers of every period of `gstin` ahead of the first
        call (at 1,000,000 records a period's B2B takes the sandbox minutes on a loaded
        machine, past a client's read timeout); cached until the data changes. -> periods."""
        biz = self.business(gstin)
        periods = sorted({r["rtnprd"] for recs in biz.records.values() for r in recs})
        for period in periods:
            try:
                self.gstr2a_answer(biz.gstin, period, "B2B")
            except PortalError:
                pass                       # no documents that period
        return len(periods)

    # ------------------------------------------------------------ SAVE / RESET

    def submit(self, gstin: str, reqtyp: str, invdata) -> str:
        """Queue a SAVE or RESET; IMSSAV0015 while another one of this GSTIN is running."""
        biz = self.business(gstin)
        if not isinstance(invdata,
                          dict) or not any(isinstance(v, list) and v for v in invdata.values()):
            raise PortalError("RET400",
                              "invdata must map section keys to non-empty lists of records", 400)
        for name in invdata:
            section_key(name)
        with self.lock:
            for req in self.saves.values():
                if req.gstin == biz.gstin and req.result is None:
                    if time.monotonic() - req.submitted < self.config.save_seconds:
                        raise PortalError("IMSSAV0015",
                                          "Another request for this GSTIN is in progress; "
                                                        "try after it completes")
                    self._complete(req)
            ref = f"IMS{biz.gstin[:2]}{uuid.uuid4().hex[:12].upper()}"
            self.saves[ref] = SaveRequest(ref, biz.gstin, reqtyp, invdata, time.monotonic())
            return ref

    def busy(self, gstin: str) -> None:
        """Answer IMSSAV0015 as a running save would (the `save_in_progress` fault)."""
        raise PortalError("IMSSAV0015",
                          "Another request for this GSTIN is in progress; try after it completes")

    def request_status(self, gstin: str, ref: str) -> dict:
        biz = self.business(gstin)
        with self.lock:
            req = self.saves.get(str(ref))
            if req is None or req.gstin != biz.gstin:
                raise PortalError("RET11418",
                                  f"No request with reference id '{ref}' for {biz.gstin}")
            req.polls += 1
            if req.result is None and req.polls == 1:
                return {"status_cd": "IP", "proc_cnt": 0, "err_cnt": 0, "error_report": {}}
            if req.result is None:
                self._complete(req)
            return req.result

    def _complete(self, req: SaveRequest) -> None:
        """Check every record against the state now, apply the good ones, write the report."""
        errors: dict[tuple, list] = {}
        done = 0
        for name, records in req.invdata.items():
            key = section_key(name)
            for rec in records if isinstance(records, list) else []:
                item = rec if isinstance(rec, dict) else {}
                code = self._apply(req, key, item)
                if code is None:
                    done += 1
                else:
                    no = str(item.get(fields.doc_no_field(key)) or item.get("inum") or "")
                    errors.setdefault((key, fields.identity_of(key, item), code), []).append(
                        {"inum": no, "rtnprd": item.get("rtnprd")})
        report: dict[str, list] = {}
        for (key, stin, code), inv in errors.items():
            report.setdefault(key, []).append({"stin": stin, "error_cd": code,
                                               "error_msg": ERRORS[code], "inv": inv})
        failed = sum(len(v) for v in errors.values())
        status = "P" if not failed else ("PE" if done else "ER")
        req.result = {"status_cd": status, "proc_cnt": done, "err_cnt": failed,
                      "error_report": report}
        if done:
            self._changed(req.gstin)

    def _apply(self, req: SaveRequest, key: str, sent: dict) -> str | None:
        """Apply one record of a request; the error code when it cannot be."""
        biz = self.data[req.gstin]
        pos = self.index[req.gstin].get(fields.record_key(key, sent))
        if pos is None or self.filings.gone(req.gstin, key, pos):   # left IMS with GSTR-3B
            return "IMSSAV0013"
        rec = biz.records[key][pos]
        prev = sent.get("prev_status")
        if (prev not in (None, "") and str(prev).upper() != rec["action"]) or \
                (sent.get("hash") and sent["hash"] != rec["hash"]):
            return "IMSSAV0010"
        if req.reqtyp == "RESET":
            rec["action"] = "N"
            rules.clear_saved(rec)
            return None
        action = str(sent.get("action") or "").upper()
        code = rules.save_error(key, rec, sent, action)
        if code is None:
            rules.store_saved(rec, sent, action)
        return code

    # ------------------------------------------------------------ the supplier side

    def edit(self, gstin: str, key: str, pos: int, rng: random.Random) -> dict:
        """A supplier edit: amounts change, a new hash, the recipient's action back to N."""
        biz = self.business(gstin)
        rec, items = biz.records[key][pos], biz.items[key][pos]
        factor = rng.choice((0.8, 0.9, 0.95, 1.05, 1.1, 1.25))
        intra = rec.get("camt", 0) > 0 or rec.get("samt", 0) > 0
        for i, it in enumerate(items):
            zero = it[0] == 0
            items[i] = fields.tax_item(it[0], max(100, int(it[1] * factor)), intra, zero,
                                       it[5] > 0)
        fields.put_amounts(rec, items)
        rev = self.revisions[(biz.gstin, key,
                              pos)] = self.revisions.get((biz.gstin, key, pos), 0) + 1
        rec["action"] = "N"
        rules.clear_saved(rec)
        rec["hash"] = fields.record_hash(rec, key, rev)
        biz.flag(key, pos)  # a downward amendment may have become an upward one
        self._changed(biz.gstin)
        return rec

    def edit_record(self, gstin: str, section: str, stin: str, doc_no: str,
                    rtnprd: str | None = None) -> dict:
        key = section_key(section)
        with self.lock:
            rec, pos = self.find(gstin, key, stin, doc_no, rtnprd)
            if rec is None:
                raise PortalError("NOT_FOUND", f"No {key} record {doc_no} of {stin} for {gstin}",
                                  404)
            return self.edit(gstin, key, pos, random.Random(f"{self.seed}|edit|{rec['hash']}"))

    def set_amounts(self, gstin: str, section: str, stin: str, doc_no: str, amounts: dict,
                    rtnprd: str | None = None) -> dict:
        """The supplier amends the record to these amounts (rupees: txval, iamt, camt, samt,
        cess): one item, a new hash, the recipient's action back to N."""
        key = section_key(section)
        with self.lock:
            rec, pos = self.find(gstin, key, stin, doc_no, rtnprd)
            if rec is None:
                raise PortalError("NOT_FOUND", f"No {key} record {doc_no} of {stin} for {gstin}",
                                  404)
            biz = self.business(gstin)
            item = _item_of(amounts)
            biz.items[key][pos] = [item]
            fields.put_amounts(rec, [item])
            rev = self.revisions[(biz.gstin, key, pos)] = \
                self.revisions.get((biz.gstin, key, pos), 0) + 1
            rec["action"] = "N"
            rules.clear_saved(rec)
            rec["hash"] = fields.record_hash(rec, key, rev)
            biz.flag(key, pos)
            self._changed(biz.gstin)
            return rec

    def add_record(self, gstin: str, body: dict) -> dict:
        """A document the supplier uploads and files now (`/_control/add_record`): section,
        stin, doc_no, doc_date (DD-MM-YYYY), rtnprd, amounts in rupees."""
        key = section_key(body.get("section") or "B2B")
        with self.lock:
            biz = self.business(gstin)
            no_f, dt_f = fields.doc_no_field(key), fields.doc_date_field(key)
            item = _item_of(body.get("amounts") or {})
            rec = {"stin": str(body.get("stin") or "").upper(), no_f: str(body["doc_no"]),
                   dt_f: str(body["doc_date"]), "inv_typ": "R", "pos": biz.state}
            fields.put_amounts(rec, [item])
            rec.update(srcform="R1", rtnprd=str(body["rtnprd"]), srcfilstatus="Filed",
                       action="N", ispendactblocked="N")
            rec["hash"] = fields.record_hash(rec, key, 0)
            biz.records[key].append(rec)
            biz.items[key].append([item])
            pos = len(biz.records[key]) - 1
            biz.flag(key, pos)
            for ik in fields.index_keys(key, rec):
                self.index[biz.gstin][ik] = pos
            self._changed(biz.gstin)
            return rec

    def supplier_files(self, gstin: str, body: dict) -> dict:
        """`/_control/supplier_files` {gstin, stin, ret_period?, rtntype: GSTR1 | GSTR3B}: the
        supplier files that return. GSTR-1: its records of the period (all when none is
        given) that were uploaded but not filed become filed; GSTR-3B: `cfs3b` turns Y."""
        stin = str(body.get("stin") or "").strip().upper()
        period = body.get("ret_period")
        rtntype = str(body.get("rtntype") or "GSTR1").upper()
        with self.lock:
            biz = self.business(gstin)
            changed = 0
            if rtntype == "GSTR3B":
                if not period:
                    raise PortalError("RET400", "ret_period is needed to file a GSTR-3B", 400)
                self.supplier_3b[(stin, str(period))] = True
            else:
                for key in ALL_OTH:
                    for rec in biz.records[key]:
                        if rec.get("stin") == stin and rec.get("srcfilstatus") == "Not Filed" \
                                and (not period or rec.get("rtnprd") == period):
                            rec["srcfilstatus"] = "Filed"
                            changed += 1
            self._changed(biz.gstin)
        return {"stin": stin, "rtntype": rtntype, "records_filed": changed}

    def supplier_status(self, stin: str, fy: str) -> dict:
        """The filing-status call's answer for a supplier in a financial year '2025-26'."""
        start = int(str(fy or "2025-26")[:4])
        periods = [f"{m:02d}{start if m >= 4 else start + 1}" for m in (*range(4, 13), 1, 2, 3)]
        stin = str(stin or "").strip().upper()
        with self.lock:
            not_filed = {r["rtnprd"] for biz in self.data.values() for key in ALL_OTH
                         for r in biz.records[key]
                         if r.get("stin") == stin and r.get("srcfilstatus") == "Not Filed"}
            seen = {r["rtnprd"] for biz in self.data.values() for key in ALL_OTH
                    for r in biz.records[key] if r.get("stin") == stin}
        asked = [p for p in periods if p in seen]
        return supplier_track(self.seed, stin, asked, set(asked) - not_filed, self.supplier_3b)

    def set_action(self, gstin: str, section: str, stin: str, doc_no: str, action: str,
                   rtnprd: str | None = None) -> dict:
        key = section_key(section)
        if action not in COUNT_NAMES:
            raise PortalError("RET400", f"action '{action}' is not one of N, A, R, P", 400)
        with self.lock:
            rec, _ = self.find(gstin, key, stin, doc_no, rtnprd)
            if rec is None:
                raise PortalError("NOT_FOUND", f"No {key} record {doc_no} of {stin} for {gstin}",
                                  404)
            rec["action"] = action
            if action == "N":
                rules.clear_saved(rec)
            self._changed(self.business(gstin).gstin)
            return rec

    def advance_day(self, days: int = 1, new_per_day: int | None = None,
                    edits_per_day: int | None = None) -> dict:
        """Move the date; each business gets new supplier records and a few supplier edits."""
        new = max(3, self.scale // 50) if new_per_day is None else int(new_per_day)
        edits = max(1, new // 10) if edits_per_day is None else int(edits_per_day)
        added, edited = dict.fromkeys(self.data, 0), dict.fromkeys(self.data, 0)
        with self.lock:
            for _ in range(int(days)):
                self.day += dt.timedelta(days=1)
                for gstin, biz in self.data.items():
                    added[gstin] += self._new_records(biz, new)
                    edited[gstin] += self._supplier_edits(biz, edits)
                    self._changed(gstin)
            write_clock(self.clock_file, self.day)
        return {"date": fields.portal_date(self.day), "added": added, "edited": edited}

    def _new_records(self, biz: synth.BusinessData, count: int) -> int:
        rng = random.Random(f"{self.seed}|{biz.gstin}|day|{self.day.isoformat()}")
        plan = synth.section_plan(rng, count)
        period = fields.period_of(self.day)
        days = [max(self.day.replace(day=1), self.day - dt.timedelta(days=rng.randint(0, 3)))
                for _ in plan]
        for key, day in zip(plan, days):
            for k, pos in synth.add_records(biz, rng, [key], [period], self.day, day):
                for ik in fields.index_keys(k, biz.records[k][pos]):
                    self.index[biz.gstin][ik] = pos
        return len(plan)

    def _supplier_edits(self, biz: synth.BusinessData, count: int) -> int:
        rng = random.Random(f"{self.seed}|{biz.gstin}|edits|{self.day.isoformat()}")
        keys = [k for k in ALL_OTH if biz.records[k]]
        for _ in range(count):
            key = rng.choice(keys)
            self.edit(biz.gstin, key, rng.randrange(len(biz.records[key])), rng)
        return count

    def snapshot(self, gstin: str | None = None) -> dict:
        """Counts per business (for /_control/state)."""
        gstins = [self.business(gstin).gstin] if gstin else list(self.data)
        out = {}
        for g in gstins:
            sections = {**self.counts(g, "ALL_OTH")["all_oth"],
                        **self.counts(g, "IMP_GDS")["imp_gds"]}
            sections.pop("ttl_cnt")
            out[g] = {"total": sum(len(self.filings.served(g, k, v))
                                   for k, v in self.data[g].records.items()),
                      "sections": sections}
        return {"date": fields.portal_date(self.day), "businesses": out}
