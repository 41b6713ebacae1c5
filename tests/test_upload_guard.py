"""Streamlit's upload endpoint takes bytes only from a logged-in importer (issue 29.4).

Real HTTP against the real app server (`streamlit run app/serve.py`, what ./run.sh serves): a
visitor who is not logged in opens a browser session (the websocket), takes the XSRF token
pair any visitor can make, and PUTs 4 x 200 MB to `/_stcore/upload_file/<session>/<id>`.
Before the guard each PUT returned 204 and the app's memory went from about 317 MB to 1.1 GB
and stayed; now each is refused (403, in words) before its body is read, and the app's memory
stays within 300 MB of where it was.
"""
from __future__ import annotations

import http.client
import os
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string
from websockets.sync.client import connect as ws_connect

from core.auth import create_user
from core.store.database import let_go_of_idle_files
from tests.fixtures import (
    DEMO_PASSWORD,
    ROOT,
    SAMPLES,
    free_port,
    logged_in_page,
    settle,
    stop,
    wait_until_up,
)

pytestmark = pytest.mark.slow
MB = 1024 * 1024


@contextmanager
def app_server(db: str):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/serve.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env={**os.environ, "IMS_DB_PATH": db, "IMS_REQUIRE_LOGIN": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, f"{url}/_stcore/health", "streamlit")
    try:
        yield port, proc.pid
    finally:
        stop(proc)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def browser_session(port: int):
    """A websocket as a browser opens it (nobody logged in) -> (socket, Streamlit session id)."""
    ws = ws_connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                    open_timeout=30)
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    ws.send(msg.SerializeToString())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        forward = ForwardMsg()
        forward.ParseFromString(ws.recv(timeout=60))
        if forward.WhichOneof("type") == "new_session":
            return ws, forward.new_session.initialize.session_id
    raise AssertionError("no session")


def put_file(port: int, session: str, size: int) -> tuple[int, str]:
    """A multipart PUT of `size` bytes, streamed; the answer's status and words."""
    xsrf = generate_xsrf_token_string()
    boundary = "----ims-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"register.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    con.putrequest("PUT", f"/_stcore/upload_file/{session}/file-{time.monotonic_ns()}")
    con.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    con.putheader("Content-Length", str(len(head) + size + len(tail)))
    con.putheader("X-Xsrftoken", xsrf)
    con.putheader("Cookie", f"_streamlit_xsrf={xsrf}")
    con.endheaders()
    # A refusal comes before the body is read; once it is here, sending the body could only
    # race the server's close (an RST can drop the answer's words), so stop as a careful
    # client would. No answer within 2 s: the server reads the body, and all of it is sent.
    if select.select([con.sock], [], [], 2)[0]:
        answer = con.getresponse()
        words = answer.read().decode(errors="replace")
        con.close()
        return answer.status, words
    block = b"x" * MB
    try:
        con.send(head)
        for _ in range(size // MB):
            con.send(block)
        con.send(tail)
    except (BrokenPipeError, ConnectionResetError):
        pass                     # refused before the body: the server stopped reading
    answer = con.getresponse()
    words = answer.read().decode(errors="replace")
    con.close()
    return answer.status, words


def test_an_upload_without_a_login_is_refused_in_words_and_memory_stays(db_file):
    create_user("admin@example.in", "a long enough password 1", "admin")
    let_go_of_idle_files()
    with app_server(db_file) as (port, pid):
        ws, session = browser_session(port)
        try:
            before = rss_mb(pid)
            answers = [put_file(port, session, 200 * MB) for _ in range(4)]
            time.sleep(1)
            after = rss_mb(pid)
        finally:
            ws.close()
    print(f"unauthenticated 4 x 200 MB PUTs: {[a[0] for a in answers]}, app memory "
          f"{before:,.0f} MB -> {after:,.0f} MB")
    assert all(status == 403 for status, _ in answers), answers
    assert all("log in" in words and "import permission" in words for _, words in answers)
    assert after - before < 300


@pytest.mark.browser
def test_a_logged_in_importer_still_uploads_through_the_guard(demo_app, chromium):
    """The other side: an admin logged in to the real server (the shared demo app, as
    ./run.sh serves it) uploads a register and gets its check, so the guard lets a real
    importer's browser through. The check imports nothing."""
    with logged_in_page(chromium, demo_app.url, "boss@example.com", DEMO_PASSWORD) as page:
        page.get_by_role("link", name="Purchase Register").click()
        page.get_by_role("heading", name="Batches").wait_for(timeout=45000)
        settle(page)
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
            str(SAMPLES / "purchase_register_sample.csv"))
        page.get_by_text("purchase_register_sample.csv").first.wait_for(timeout=30000)
        settle(page)
        body = page.locator("body").inner_text()
    assert "log in" not in body.lower() or "Logged in as" in body
    assert "403" not in body and "error" not in body.lower().split("purchase_register_sample")[0]
    assert "Import" in body and "lines" in body, body[-1500:]
