"""The sandbox's HTTP server (standard library only): session, IMS, GSTR-2A, GSTR-2B, test
controls.
Paths, parameters and controls: sandbox/README.md."""
from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sandbox.demo import DEMO_OTP, DEMO_USERNAME
from sandbox.faults import Faults
from sandbox.filings import RETURNS_PATH, FilingError, file_return
from sandbox.gsp_auth import Sessions, authenticate
from sandbox.gstr2b import GSTR2B_PATH, Gstr2bBook, advance_days, encoded
from sandbox.gstr2b import run_control as gstr2b_control
from sandbox.state import FILES_PATH, Portal, PortalError, section_key
from sandbox.supplier_returns import SUPPLIER_RETURNS_PATH

IMS_PATH = "/taxpayerapi/v1.0/returns/ims"
GSTR2A_PATH = "/taxpayerapi/v1.0/returns/gstr2a"


class Sandbox:
    """Everything one server process holds: the portal state, sessions, faults, counters."""

    def __init__(self, portal: Portal, faults: Faults | None = None):
        self.portal, self.faults = portal, faults or Faults()
        self.sessions = Sessions(list(portal.data))
        self.requests: Counter = Counter()
        self.gstr2b = Gstr2bBook(portal)


def ok(data) -> bytes:
    return json.dumps({"status_cd": "1", "data": data}).encode()


def error(code: str, message: str) -> bytes:
    return json.dumps({"status_cd": "0", "error": {"error_cd": code, "message": message}}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GSTNSandbox/1.0"

    # ------------------------------------------------------------ plumbing

    @property
    def box(self) -> Sandbox:
        return self.server.sandbox

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {fmt % args}\n")

    def send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def drip(self, body: bytes, delay: float) -> None:
        """Headers at once, then the body one byte every `delay` s (until the client leaves)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(delay)
        except OSError:
            self.close_connection = True

    def huge(self, size_mb: int) -> None:
        """A JSON answer of `size_mb` MB, streamed (until the client leaves)."""
        head, tail, block = b'{"status_cd": "1", "data": {}, "pad": "', b'"}', b"x" * (1 << 20)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(head) + size_mb * len(block) + len(tail)))
        self.end_headers()
        try:
            self.wfile.write(head)
            for _ in range(size_mb):
                self.wfile.write(block)
            self.wfile.write(tail)
        except OSError:
            self.close_connection = True

    def body_json(self):
        raw = self.raw_body
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise PortalError("RET400", "The request body is not JSON", 400) from None

    def read_body(self) -> bytes:
        """The whole request body (Content-Length or chunked). Read once, before any answer:
        an answer that leaves body bytes unread (an injected fault, a failed session check)
        would make them the start of the next request on a kept-alive connection."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked()
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit():
            self.close_connection = True   # where this body ends is unknown
            raise PortalError("RET400", f"Content-Length '{text}' is not a byte count", 400)
        return self.rfile.read(int(text)) if int(text) else b""

    def read_chunked(self) -> bytes:
        parts = []
        while True:
            size_text = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.close_connection = True
                raise PortalError("RET400", "Malformed chunked request body", 400) from None
            if size == 0:
                while self.rfile.readline(65536).strip():   # trailers up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            self.raw_body = self.read_body()
            if url.path == "/health" and method == "GET":
                return self.send(200, b'{"status":"ok"}')
            if url.path == "/authenticate" and method == "POST":
                return self.authenticate()
            if url.path.startswith(FILES_PATH + "/") and method == "GET":
                token, _, number = url.path[len(FILES_PATH) + 1:].partition("/")
                return self.send(200, self.box.portal.file_part(token, number))
            if url.path.startswith("/_control/"):
                return self.control(method, url.path[len("/_control/"):], params)
            if url.path in (IMS_PATH, GSTR2A_PATH, GSTR2B_PATH, RETURNS_PATH,
                            SUPPLIER_RETURNS_PATH):
                return self.api(method, url.path, params)
            self.send(404, error("NOT_FOUND", f"No such path {url.path}"))
        except PortalError as exc:
            self.send(exc.http_status, error(exc.code, exc.message))
        except FilingError as exc:
            self.send(400, error("RET400", str(exc)))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # noqa: BLE001 - a sandbox bug: say so, do not hang the client
            self.send(500, error("SANDBOX500", f"{type(exc).__name__}: {exc}"))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    # ------------------------------------------------------------ session

    def authenticate(self) -> None:
        body = self.body_json()
        self.send(200, ok(authenticate(self.box.sessions, body if isinstance(body, dict) else {},
                                       self.headers.get("gstin"),
                                       self.box.portal.config.token_ttl)))

    def token(self) -> str | None:
        bearer = self.headers.get("Authorization") or ""
        from_bearer = bearer[7:] if bearer.startswith("Bearer ") else None
        return self.headers.get("auth-token") or from_bearer

    # ------------------------------------------------------------ API

    def api(self, method: str, path: str, params: dict) -> None:
        action = (params.get("action") or "").upper()
        self.box.requests[action or "?"] += 1
        fault = self.box.faults.take(self.path, action)
        if fault and self.apply_fault(fault):
            return
        gstin = params.get("gstin") or ""
        self.box.sessions.check(self.token(), gstin)
        header_gstin = self.headers.get("gstin")
        if header_gstin and gstin and header_gstin.strip().upper() != gstin.strip().upper():
            raise PortalError("RET400",
                              f"Header gstin {header_gstin} differs from parameter gstin {gstin}",
                              400)
        if path == GSTR2A_PATH and method == "GET":
            period = params.get("ret_period") or ""
            if action == "FILEDET":   # a large answer's token (gstr2a_answer)
                return self.send(200, self.box.portal.file_answer(gstin,
                                                                  params.get("token") or ""))
            if action not in ("B2B", "B2BA", "CDN", "CDNA"):
                self.box.portal.business(gstin)
                raise PortalError("RET13508", f"No documents found for {action} in {period}")
            return self.send(200, self.box.portal.gstr2a_answer(gstin, period, action))
        if path == IMS_PATH:
            return self.ims(method, action, gstin, params, fault)
        if path == GSTR2B_PATH:
            return self.gstr2b(method, action, gstin, params)
        if path == RETURNS_PATH and method == "GET" and action == "RETTRACK":
            return self.send(200, ok(self.box.portal.filings.track(
                self.box.portal.business(gstin).gstin, params.get("ret_period"),
                params.get("type"))))
        if path == SUPPLIER_RETURNS_PATH and method == "GET" and action == "RETTRACK":
            self.box.portal.business(gstin)
            return self.send(200, ok(self.box.portal.supplier_status(params.get("ctin"),
                                                                     params.get("fy"))))
        raise PortalError("RET400", f"{method} is not supported on {path}", 405)

    def apply_fault(self, fault) -> bool:
        """True when the fault answered the request itself."""
        if fault.kind == "5xx":
            self.send(fault.status, error("SYS5XX", "Injected server error"))
        elif fault.kind == "429":
            self.send(429, error("RATE429", "Too many requests"), {"Retry-After": "1"})
        elif fault.kind == "expire_session":
            self.box.sessions.expire_all()
            self.send(401, error("AUTH4038", "Session expired: log in again"))
        elif fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        elif fault.kind == "drip":
            self.drip(ok({}), fault.delay)
        elif fault.kind == "huge":
            self.huge(fault.size_mb)
        else:
            return False  # queue / save_in_progress act inside the IMS handler
        return True

    def ims(self, method: str, action: str, gstin: str, params: dict, fault) -> None:
        portal = self.box.portal
        if method == "GET" and action == "GETCNT":
            return self.send(200, ok(portal.counts(gstin, params.get("goods_typ") or "ALL_OTH")))
        if method == "GET" and action == "GETINV":
            key = section_key(params.get("section") or "")
            count, answer = portal.section_answer(gstin, key)
            if count == 0:
                raise PortalError("RET11416",
                                  f"No document found for section {params.get('section')}")
            if count > portal.config.queue_threshold or (fault and fault.kind == "queue"):
                return self.send(200, ok({"token": portal.queue_file(gstin, key), "est": 1}))
            return self.send(200, answer)
        if method == "GET" and action == "FILEDET":
            return self.send(200, portal.file_answer(gstin, params.get("token") or ""))
        if method == "GET" and action == "REQSTS":
            return self.send(200, ok(portal.request_status(gstin, params.get("int_tran_id") or "")))
        if method == "PUT" and action in ("SAVE", "RESETIMS"):
            body = self.body_json()
            portal.business(gstin)
            if fault and fault.kind == "save_in_progress":
                portal.busy(gstin)
            if body.get("rtin") and str(body["rtin"]).upper() != gstin.upper():
                raise PortalError("RET400", f"rtin {body['rtin']} differs from gstin {gstin}", 400)
            reqtyp = "RESET" if action == "RESETIMS" else "SAVE"
            return self.send(200,
                             ok({"reference_id": portal.submit(gstin, reqtyp,
                                                               body.get("invdata"))}))
        raise PortalError("RET400", f"Unknown IMS action '{action}' for {method}", 400)

    def gstr2b(self, method: str, action: str, gstin: str, params: dict) -> None:
        book = self.box.gstr2b
        if method == "GET" and action == "GET2B":
            return self.send(200, book.answer_bytes(gstin, params.get("rtnprd") or "",
                                                    params.get("file_num")))
        if method == "PUT" and action == "GEN2B":
            return self.send(200, encoded(book.regenerate(gstin, self.body_json())))
        if method == "GET" and action == "GENSTS2B":
            return self.send(200, encoded(book.status(gstin, params.get("int_tran_id") or "")))
        raise PortalError("RET400", f"Unknown GSTR-2B action '{action}' for {method}", 400)

    # ------------------------------------------------------------ test controls

    def control(self, method: str, name: str, params: dict) -> None:
        portal = self.box.portal
        if method == "GET" and name == "state":
            snap = portal.snapshot(params.get("gstin"))
            snap.update(config=vars(portal.config), faults=self.box.faults.listing(),
                        sessions=self.box.sessions.listing(),
                        requests=dict(self.box.requests))
            return self.send(200, json.dumps(snap).encode())
        if method == "GET" and name == "otp":
            return self.send(200, json.dumps(self.box.sessions.sent_otp(params.get("gstin")))
                             .encode())
        if method == "GET" and name == "record":
            return self.send(200, json.dumps(portal.record_view(
                params.get("gstin"), params.get("section"), params.get("stin") or "",
                params.get("doc_no"), params.get("rtnprd"))).encode())
        if method != "POST":
            raise PortalError("NOT_FOUND", f"No control GET {name}", 404)
        body = self.body_json()
        answer = self.run_control(name, body if isinstance(body, dict) else {})
        self.send(200, json.dumps(answer).encode())

    def run_control(self, name: str, body: dict) -> dict:
        portal, faults = self.box.portal, self.box.faults
        if name == "fault":
            try:
                faults.arm(**{k: body[k] for k in ("kind", "times", "delay", "status", "size_mb",
                                                   "path_contains")
                              if k in body})
            except (TypeError, ValueError) as exc:
                raise PortalError("RET400", str(exc), 400) from None
            return {"ok": True, "faults": faults.listing()}
        if name == "clear_faults":
            faults.clear()
            return {"ok": True}
        if name == "expire_tokens":
            self.box.sessions.expire_all()
            return {"ok": True}
        if name == "access":
            return self.box.sessions.set_access(body.get("gstin"), body.get("hours", 0))
        if name == "advance_day":
            return advance_days(portal, self.box.gstr2b, body)
        if name == "warm_gstr2a":
            return {"periods": portal.warm_gstr2a(body.get("gstin"))}
        if name == "gstr2b":
            return gstr2b_control(self.box.gstr2b, body)
        if name == "file_gstr3b":   # a 2B held for this return is generated now
            entry = file_return(portal, body)
            made = self.box.gstr2b.on_filed(portal.business(body.get("gstin")).gstin,
                                            entry["ret_prd"]) if entry["rtntype"] == "GSTR3B" \
                else []
            return {**entry, "gstr2b_generated": [{"gstin": g, "period": p} for g, p in made]}
        if name == "edit_record" and body.get("amounts"):
            return {"record": portal.set_amounts(body.get("gstin"), body.get("section"),
                                                 body.get("stin"), body.get("doc_no"),
                                                 body["amounts"], body.get("rtnprd"))}
        if name == "add_record":
            return {"record": portal.add_record(body.get("gstin"), body)}
        if name == "supplier_files":
            return portal.supplier_files(body.get("gstin"), body)
        if name == "edit_record":
            return {"record": portal.edit_record(body.get("gstin"), body.get("section"),
                                                 body.get("stin"),
                                                 body.get("doc_no"), body.get("rtnprd"))}
        if name == "set_action":
            return {"record": portal.set_action(body.get("gstin"), body.get("section"),
                                                body.get("stin"),
                                                body.get("doc_no"), body.get("action"),
                                                body.get("rtnprd"))}
        if name == "config":
            for k, v in body.items():
                if not hasattr(portal.config, k):
                    raise PortalError("RET400", f"Unknown config key '{k}'", 400)
                setattr(portal.config, k, type(getattr(portal.config, k))(v))
            return vars(portal.config)
        if name == "reset":
            portal.reset()
            self.box.gstr2b.clear()
            faults.clear()
            self.box.requests.clear()
            return {"ok": True}
        raise PortalError("NOT_FOUND", f"No control '{name}'", 404)


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8765,
          verbose: bool = False) -> None:
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.sandbox, server.verbose = sandbox, verbose
    threading.Thread(target=sandbox.portal.warm, daemon=True).start()
    print(f"GSTN sandbox on http://{host}:{port} (user {DEMO_USERNAME}, OTP {DEMO_OTP})",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
