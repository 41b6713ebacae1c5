"""The README's run command: a populated app minutes after a fresh clone.

Starts the bundled sandbox, prepares the store on first run (demo businesses, the demo
purchase register, a first fetch and sync, a demo admin login), then runs the worker
and the Streamlit app until Ctrl-C. Later runs reuse the store as it is.

The app listens on 127.0.0.1 only (this machine) unless `--host H` says otherwise (e.g.
`--host 0.0.0.0` for the whole network: only with real users and passwords). The demo admin's
password is random, made on the first run and printed once in the banner; the store keeps only
its hash (`IMS_DEMO_ADMIN_PASSWORD` sets it instead; `python -m core.auth reset-password
--email admin@demo.local` makes a new one). docs/security.md.

One day for the whole demo: the sandbox writes its day (its start date, 12 Nov 2025 unless
`--start-date`) into the clock file `IMS_CLOCK_FILE` (default data/clock.txt), which the app,
the worker and this script read as the business day (core/clock.py); the earlier returns are
filed on the sandbox at every start and the latest GSTR-2B is fetched on the first
(scripts/demo_setup.py), so the Dashboard, the ITC Summary and Reconciliation all tell the
month of that day.

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

from core.calendar import day_text, period_label
from core.clock import CLOCK_FILE_ENV
from core.clock import today as business_today
from sandbox.demo import DEMO_OTP, DEMO_PORTAL_USERS, DEMO_USERNAME
from scripts.demo_setup import file_earlier_returns, prepare_demo

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


def private_log(path: Path) -> int:
    """The log file opened for appending, readable by its owner only (0600: the logs name
    users and sessions)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)            # an older log made 0644
    return fd


def start(cmd: list[str], log_name: str, data: Path = DATA) -> subprocess.Popen:
    with os.fdopen(private_log(data / f"{log_name}.log"), "ab") as log:  # the child keeps its own copy
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
    ap.add_argument("--start-date", default=None,
                    help="the demo's day, YYYY-MM-DD (default the sandbox's: 2025-11-12)")
    ap.add_argument("--data-dir", type=Path, default=DATA,
                    help="store, clock file, demo files and logs (default data/)")
    return ap.parse_args(argv)


def one_clock(data: Path) -> None:
    """App, worker, sandbox and this script share one day: the clock file the sandbox writes.
    A fixed IMS_TODAY would let the app leave the sandbox's day, so it is not passed on."""
    os.environ.setdefault(CLOCK_FILE_ENV, str(data / "clock.txt"))
    if os.environ.pop("IMS_TODAY", None):
        print("IMS_TODAY is ignored by the demo: its day is the sandbox's (--start-date)")


def sandbox_command(args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "sandbox", "--port", str(args.sandbox_port),
           "--seed", str(args.seed), "--scale", str(args.scale)]
    return cmd + (["--start-date", args.start_date] if args.start_date else [])


def app_command(args: argparse.Namespace) -> list[str]:
    """The app server (app/serve.py: the app plus its session-cookie route) on --host only."""
    return [sys.executable, "-m", "streamlit", "run", "app/serve.py", "--server.headless", "true",
            "--server.address", args.host, "--server.port", str(args.port),
            "--browser.gatherUsageStats", "false"]


def main() -> None:
    args = parse_args()
    data = args.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("IMS_DB_PATH", str(data / "ims.duckdb"))
    os.environ.setdefault("GSTN_API_URL", f"http://127.0.0.1:{args.sandbox_port}")
    one_clock(data)
    py = sys.executable
    procs: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        sandbox = start(sandbox_command(args), "sandbox", data)
        procs.append(sandbox)
        wait_for(f"{os.environ['GSTN_API_URL']}/health", sandbox, "The sandbox")
        filed = file_earlier_returns(os.environ["GSTN_API_URL"])
        login = prepare_demo(data / "demo", seed=args.seed, scale=args.scale, fresh=args.fresh)
        procs.append(start([py, "worker.py"], "worker", data))
        app = start(app_command(args), "app", data)
        procs.append(app)
        local = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        wait_for(f"http://{local}:{args.port}/_stcore/health", app, "The app")
        print_banner(args.host, args.port, login, filed, data)
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        print(f"A process stopped; see the logs in {data}")
    except KeyboardInterrupt:
        print("\nStopping sandbox, worker and app ...")
    finally:
        stop_all(procs)


def print_banner(host: str, port: int, login: dict, filed: list[str] | None = None,
                 logs: Path = DATA) -> None:
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
    day = business_today()
    print(f"  The demo's day: {day_text(day)} (app, worker and sandbox; "
          f"{os.environ[CLOCK_FILE_ENV]})")
    if filed:
        print(f"  GSTR-3B filed on the sandbox for {period_label(filed[0])} to "
              f"{period_label(filed[-1])}; the month to close is the one after")
    print(f"  Sandbox portal login: username {DEMO_USERNAME}, OTP {DEMO_OTP}; per GSTIN "
          "(Settings, GSP sessions): "
          + ", ".join(f"{g} {u}" for g, u in DEMO_PORTAL_USERS.items())
          + f", OTP {DEMO_OTP}")
    print(f"  Store: {os.environ['IMS_DB_PATH']}   Sandbox: {os.environ['GSTN_API_URL']}")
    print(f"  Logs: app.log, worker.log, sandbox.log in {logs}   Stop: Ctrl-C\n{line}\n",
          flush=True)


if __name__ == "__main__":
    main()
