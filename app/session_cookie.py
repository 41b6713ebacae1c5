"""The session cookie: how a browser keeps its login across a page refresh or a deep link.

Streamlit lets a script read the cookies the browser sent (`st.context.cookies`) but not set
one, so the app server (app/serve.py, an `st.App`) adds one route, `/_ims/session`:
- after a login the script hands the signed token (core/auth/session_token.py) to `offer()`, which
  keeps it in this process under a one-time code for HANDOFF_S seconds, and draws a tiny
  iframe whose script POSTs that code (header `X-IMS-Handoff`) to the route; the route answers
  with `Set-Cookie: ims_session=<token>; HttpOnly; SameSite=Strict; Path=/` (and `Secure`
  behind https). The token itself never reaches the page's JavaScript.
- `DELETE /_ims/session` clears the cookie (after a logout).
docs/security.md tells the whole design.
"""
from __future__ import annotations

import html
import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COOKIE = "ims_session"
ROUTE = "/_ims/session"
HANDOFF_S = 60.0
_offers: dict[str, tuple[str, int, float]] = {}
_lock = threading.Lock()


def offer(token: str, max_age_s: int) -> str:
    """Keep `token` for the cookie route under a fresh one-time code; return the code."""
    code = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for old in [c for c, (_, _, until) in _offers.items() if until < now]:
            del _offers[old]
        _offers[code] = (token, int(max_age_s), now + HANDOFF_S)
    return code


def claim(code: str | None) -> tuple[str, int] | None:
    """The token and cookie lifetime for a code, once (None when unknown or too old)."""
    with _lock:
        found = _offers.pop(code or "", None)
    if found is None or found[2] < time.monotonic():
        return None
    return found[0], found[1]


def setter_html(code: str, clear: bool = False) -> str:
    """The iframe's page: one same-origin request that sets (or clears) the cookie."""
    method = "DELETE" if clear else "POST"
    return (f"<script>fetch({ROUTE!r}, {{method: {method!r}, credentials: 'same-origin', "
            f"headers: {{'X-IMS-Handoff': {html.escape(code)!r}}}}});</script>")


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.lower() == "https"


async def session_route(request: Request) -> Response:
    """POST: set the cookie for a handed-off token; DELETE: clear it."""
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=_secure(request))
        return response
    found = claim(request.headers.get("x-ims-handoff"))
    if found is None:
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    token, max_age = found
    response.set_cookie(COOKIE, token, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=_secure(request))
    return response


ROUTES = [Route(ROUTE, session_route, methods=["POST", "DELETE"])]
