"""Who may send bytes to Streamlit's upload endpoint (`/_stcore/upload_file/<session>/<file>`).

Streamlit takes a PUT for any of its live browser sessions, logged in or not: a visitor of the
login page could push hundreds of MB into the app's memory. So the app server (app/serve.py)
puts `UploadGuard` in front of it: a PUT (or DELETE) is let through only for a browser session
that a page has named as an importer's (`allow_uploads_here()`, called by Purchase Register
for a user with the import permission, and by IMS Invoices' "Actions from a sheet" for a user
with the act permission), and only while that login session still holds and its user still
holds that permission (read from the store at each upload: a logout, a timeout, a disabled
user or a changed role closes the door at once). Anything else is answered 403 in words
before a byte of the body is read. The size of an allowed upload is capped by
`server.maxUploadSize` (.streamlit/config.toml), which Streamlit enforces while streaming.
docs/security.md, "Uploads".
"""
from __future__ import annotations

import re
import threading

from starlette.concurrency import run_in_threadpool
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app.auth_ui import in_setup_mode
from core import auth

UPLOAD_PATH = re.compile(r"/_stcore/upload_file/([^/]+)/")
REFUSED = (b"Uploads need a logged-in session with the import permission: log in, open "
           b"Purchase Register and choose the file there.")
KEPT_SESSIONS = 2000
_SETUP = object()          # the set-up mode's built-in admin (no login session)
_importers: dict[str, object] = {}
_lock = threading.Lock()


def allow_uploads_here(login_session: str | None, permission: str = "import") -> None:
    """This browser session may upload while `login_session` (None: the set-up mode) holds
    for a user with `permission` (import: a purchase register; act: a sheet of actions).
    Called by a page that shows an uploader."""
    ctx = get_script_run_ctx()
    if ctx is None:
        return
    with _lock:
        if len(_importers) >= KEPT_SESSIONS:
            _importers.pop(next(iter(_importers)))
        _importers[ctx.session_id] = (login_session or _SETUP, permission)


def may_upload(browser_session: str) -> bool:
    """May this browser session send a file now? (Reads the store.)"""
    with _lock:
        login, permission = _importers.get(browser_session, (None, None))
    if login is None:
        return False
    if login is _SETUP:
        return in_setup_mode()
    snap = auth.session_snapshot(None, str(login))
    return auth.session_problem(snap) is None and auth.can(snap["user"], permission)


class UploadGuard:
    """ASGI middleware: upload PUTs and DELETEs only from an importer's live session."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("PUT", "DELETE", "POST"):
            found = UPLOAD_PATH.search(scope.get("path", ""))
            if found and not await run_in_threadpool(may_upload, found.group(1)):
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send) -> None:
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(REFUSED)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": REFUSED})
