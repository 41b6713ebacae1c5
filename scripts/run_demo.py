"""The README's run command: a populated app minutes after a fresh clone.

Starts the bundled sandbox, prepares the store on first run (demo businesses, the demo
purchase register, a first fetch and sync, a demo admin login), then runs the worker
and the Streamlit app until Ctrl-C. Later runs reuse the store as it is.

The app listens on 127.0.0.1 only (this machine) unless `--host H` says otherwise (e.g.
`--host 0.0.0.0` for the whole network: only with real users and passwords). The demo admin's
password is random, made on the first run and printed once in the banner; the store keeps only
its hash (`IMS_DEMO_ADMIN_PASSWORD` sets it instead; `python -m core.auth reset-password
--email admin@demo.local` makes a new one). docs/security.md.

The sandbox listens on 127.0.0.1, and with no GSTN_USERNAME / GSTN_OTP set the client logs
in to a loopback URL with the login the sandbox publishes (core/portal/gsp.py), so the demo needs
no credentials.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from scripts.demo_setup import prepare_demo

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "data" / "demo"


def private_log(path: Path) -> int:
    """The log file opened for appending, readable by its owner only (0600: the logs name
    users and sessions)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)            # an older log made 0644
    return fd


def start(cmd: list[str], log_name: str) -> subprocess.Popen:
    with os.fdopen(private_log(ROOT / "data" / f"{log_name}.log"), "ab") as log:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_for(url: str, proc: subprocess.Popen, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} stopped at start; see data/*.log")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    sys.exit(f"{what} did not answer at {url} within {seconds:.0f} s")


def stop_all(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt  # so that the children are stopped too


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8501, help="app port")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address the app listens on (default 127.0.0.1: this machine only)")
    ap.add_argument("--sandbox-port", type=int, default=8765)
    ap.add_argument("--scale", type=int, default=3000, help="IMS records per demo business")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fresh", action="store_true", help="delete the store and rebuild the demo")
    return ap.parse_args(argv)


def app_command(args: argparse.Namespace) -> list[str]:
    """The app server (app/serve.py: the app plus its session-cookie route) on --host only."""
    return [sys.executable, "-m", "streamlit", "run", "app/serve.py", "--server.headless", "true",
            "--server.address", args.host, "--server.port", str(args.port),
            "--browser.gatherUsageStats", "false"]


def main() -> None:
    args = parse_args()
    os.environ.setdefault("IMS_DB_PATH", str(ROOT / "data" / "ims.duckdb"))
    os.environ.setdefault("GSTN_API_URL", f"http://127.0.0.1:{args.sandbox_port}")
    (ROOT / "data").mkdir(exist_ok=True)
    py = sys.executable
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        sandbox = start([py, "-m", "sandbox", "--port", str(args.sandbox_port),
                         "--seed", str(args.seed), "--scale", str(args.scale)], "sandbox")
        procs.append(sandbox)
        wait_for(f"{os.environ['GSTN_API_URL']}/health", sandbox, "The sandbox")
        login = prepare_demo(DEMO_DIR, seed=args.seed, scale=args.scale, fresh=args.fresh)
        procs.append(start([py, "worker.py"], "worker"))
        app = start(app_command(args), "app")
        procs.append(app)
        local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        wait_for(f"http://{local}:{args.port}/_stcore/health", app, "The app")
        print_banner(args.host, args.port, login)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print("A process stopped; see data/sandbox.log, data/worker.log, data/app.log")
    except KeyboardInterrupt:
        print("\nStopping sandbox, worker and app ...")
    finally:
        stop_all(procs)


def print_banner(host: str, port: int, login: dict) -> None:
    line = "=" * 64
    shown = "localhost" if host == "127.0.0.1" else host
    print(f"\n{line}\n  IMS Reco Sync is running:  http://{shown}:{port}")
    if host != "127.0.0.1":
        print(f"  Listening on {host}: other machines can reach the login page.")
    if login["password"]:
        note = "  (shown once; it is stored only as a hash)" if login["created"] else ""
        print(f"  Log in as  {login['email']}  with password  {login['password']}{note}")
    else:
        print(f"  Log in as  {login['email']}  with the password printed on the first run\n"
              f"  (forgot it? python -m core.auth reset-password --email {login['email']})")
    print(f"  Store: {os.environ['IMS_DB_PATH']}   Sandbox: {os.environ['GSTN_API_URL']}")
    print(f"  Logs: data/app.log, data/worker.log, data/sandbox.log   Stop: Ctrl-C\n{line}\n",
          flush=True)


if __name__ == "__main__":
    main()
